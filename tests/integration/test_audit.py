"""The hash-chained audit log detects an edited, deleted, reordered or re-forged event."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from storage.audit import GENESIS, AuditHead, AuditLog
from storage.tables import AuditEvent
from tests.conftest import Storage

COLUMNS = ("at", "actor", "action", "subject", "prev_hash", "hash")


def _head(tmp_path: Path) -> AuditHead:
    key = Ed25519PrivateKey.generate()
    return AuditHead(tmp_path / "audit-head.json", lambda: key)


async def _five_events(storage: Storage) -> None:
    for n in range(1, 6):
        async with storage.sessions() as session, session.begin():
            await storage.audit.append(session, "cli", f"test.step{n}", {"n": n, "case": "c1"})


async def _verify(storage: Storage) -> tuple[int, int | None, str]:
    async with storage.sessions() as session:
        report = await storage.audit.verify(session)
    problem = report.problem
    return report.events, (problem.seq if problem else None), (str(problem) if problem else "")


async def test_given_an_untouched_chain_then_it_verifies(storage: Storage) -> None:
    assert await _verify(storage) == (0, None, "")
    await _five_events(storage)

    assert await _verify(storage) == (5, None, "")
    async with storage.sessions() as session:
        events = (
            (await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars().all()
        )
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert events[0].at.tzinfo is not None


async def test_given_an_edited_event_then_verify_names_its_seq(storage: Storage) -> None:
    await _five_events(storage)
    async with storage.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE audit_events SET subject = :s WHERE seq = 3"), {"s": '{"case":"c2","n":3}'}
        )

    events, seq, message = await _verify(storage)

    assert (events, seq) == (5, 3)
    assert "altered" in message and "3" in message


async def test_given_an_edited_timestamp_then_verify_names_its_seq(storage: Storage) -> None:
    await _five_events(storage)
    async with storage.sessions() as session, session.begin():
        event = await session.get(AuditEvent, 4)
        assert event is not None
        event.at = event.at.replace(year=event.at.year - 1)
        session.add(event)

    assert (await _verify(storage))[1] == 4


async def test_given_a_deleted_event_then_verify_names_the_gap(storage: Storage) -> None:
    await _five_events(storage)
    async with storage.sessions() as session, session.begin():
        await session.execute(text("DELETE FROM audit_events WHERE seq = 2"))

    events, seq, message = await _verify(storage)

    assert (events, seq) == (4, 2)
    assert "missing" in message


async def test_given_a_deleted_event_and_the_rest_renumbered_then_verify_names_the_seq(
    storage: Storage,
) -> None:
    await _five_events(storage)
    async with storage.sessions() as session, session.begin():
        await session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
        for seq in (3, 4, 5):
            await session.execute(
                text("UPDATE audit_events SET seq = :new WHERE seq = :old"),
                {"new": seq - 1, "old": seq},
            )

    assert (await _verify(storage))[:2] == (4, 2)


async def test_given_two_events_swapped_then_verify_names_the_first(storage: Storage) -> None:
    await _five_events(storage)
    async with storage.sessions() as session, session.begin():
        rows = {
            row.seq: row
            for row in (
                await session.execute(
                    text(
                        f"SELECT seq, {', '.join(COLUMNS)} FROM audit_events "  # noqa: S608 - constants
                        "WHERE seq IN (2, 3)"
                    )
                )
            ).all()
        }
        for target, source in ((2, 3), (3, 2)):
            await session.execute(
                text(
                    f"UPDATE audit_events SET {', '.join(f'{c} = :{c}' for c in COLUMNS)} "  # noqa: S608
                    "WHERE seq = :seq"
                ),
                {"seq": target, **{c: getattr(rows[source], c) for c in COLUMNS}},
            )

    events, seq, message = await _verify(storage)

    assert (events, seq) == (5, 2)
    assert "does not follow" in message


async def test_given_an_event_reforged_without_the_key_then_verify_names_it(
    storage: Storage,
) -> None:
    """Someone with only the database edits an event and recomputes a plausible hash."""
    await _five_events(storage)
    async with storage.sessions() as session, session.begin():
        event = await session.get(AuditEvent, 5)
        assert event is not None
        event.action = "test.nothing-happened"
        event.hash = hashlib.sha256(event.prev_hash.encode() + event.action.encode()).hexdigest()
        session.add(event)

    assert (await _verify(storage))[1] == 5


async def test_given_another_hmac_key_then_the_chain_does_not_verify(storage: Storage) -> None:
    await _five_events(storage)
    stranger = AuditLog(b"s" * 32)

    async with storage.sessions() as session:
        report = await stranger.verify(session)

    assert report.problem is not None and report.problem.seq == 1


async def _rows(storage: Storage, *seqs: int) -> dict[int, dict[str, object]]:
    async with storage.sessions() as session:
        result = await session.execute(
            text(f"SELECT seq, {', '.join(COLUMNS)} FROM audit_events"),  # noqa: S608 - constants
        )
        return {
            row.seq: {c: getattr(row, c) for c in COLUMNS}
            for row in result.all()
            if row.seq in seqs
        }


async def test_given_the_last_event_swapped_for_one_from_a_forked_chain_then_verify_names_it(
    storage: Storage,
) -> None:
    """A restored backup forks the chain; an event of the other branch, its prev_hash column
    "fixed up", must not pass for this branch's: the chain link is inside the HMAC."""
    for n in (1, 2):
        async with storage.sessions() as session, session.begin():
            await storage.audit.append(session, "cli", f"common{n}", {"n": n})
    branches: dict[str, dict[int, dict[str, object]]] = {}
    for branch in ("a", "b"):
        async with storage.sessions() as session, session.begin():
            await session.execute(text("DELETE FROM audit_events WHERE seq > 2"))
        for n in (3, 4):
            async with storage.sessions() as session, session.begin():
                await storage.audit.append(session, "cli", f"{branch}{n}", {"n": n})
        branches[branch] = await _rows(storage, 3, 4)
    assert (await _verify(storage))[1] is None  # branch b, intact
    spliced = {**branches["b"][4], "prev_hash": branches["a"][3]["hash"]}
    async with storage.sessions() as session, session.begin():
        await session.execute(text("DELETE FROM audit_events WHERE seq > 2"))
        for seq, values in ((3, branches["a"][3]), (4, spliced)):
            await session.execute(
                text(
                    f"INSERT INTO audit_events (seq, {', '.join(COLUMNS)}) "  # noqa: S608
                    f"VALUES (:seq, {', '.join(f':{c}' for c in COLUMNS)})"
                ),
                {"seq": seq, **values},
            )

    assert (await _verify(storage))[:2] == (4, 4)


async def test_given_the_newest_events_deleted_then_the_outside_head_names_the_gap(
    storage: Storage,
    tmp_path: Path,
) -> None:
    """The chain alone cannot see its tail cut off; the head kept outside the database can."""
    audit = AuditLog(storage.provider.hmac_key(), _head(tmp_path))
    for n in range(1, 6):
        async with storage.sessions() as session, session.begin():
            await audit.append(session, "cli", f"test.step{n}", {"n": n})
    async with storage.sessions() as session:
        assert (await audit.verify(session)).ok

    async with storage.sessions() as session, session.begin():
        await session.execute(text("DELETE FROM audit_events WHERE seq >= 4"))

    async with storage.sessions() as session:
        report = await audit.verify(session)
    assert report.problem is not None
    assert report.problem.seq == 4
    assert "newest events were deleted" in str(report.problem)


async def test_given_a_rolled_back_append_then_the_head_is_not_advanced(
    storage: Storage,
    tmp_path: Path,
) -> None:
    head = _head(tmp_path)
    audit = AuditLog(storage.provider.hmac_key(), head)
    async with storage.sessions() as session, session.begin():
        await audit.append(session, "cli", "kept", {})
    try:
        async with storage.sessions() as session, session.begin():
            await audit.append(session, "cli", "rolled-back", {})
            raise RuntimeError("abort")
    except RuntimeError:
        pass

    recorded = head.read()
    assert recorded is not None and recorded.seq == 1
    async with storage.sessions() as session:
        assert (await audit.verify(session)).ok
