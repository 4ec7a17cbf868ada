"""Sealing with the real services, database, cipher and evidence store (no Telegram), on
SQLite and PostgreSQL.

A participant's interview is driven through ``ConversationService`` exactly as the handlers do,
one transaction per update; then ``SealingService`` seals, the reviewer's ``pull_case`` opens.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from bot.container import Container, signer_fingerprint
from handlers.callbacks import unpack
from interview.services import phrases as P
from review.pull import pull_case
from review.trust import TrustedSigner
from storage.audit import _PG_LOCK_ID as AUDIT_LOCK
from storage.evidence import load_identities
from storage.evidence.store import LocalEvidenceStore
from storage.tables import Answer, ConsentRecord, DataKeyRow, Interview, Statement
from tests.e2e.voice_helpers import statement_files
from tests.e2e.world import until
from tests.integration.conversation import CASE, Participant, count, opened_container, said


@pytest.fixture
async def container(
    tmp_path: Path, data_dir: Path, db_url: str
) -> AsyncIterator[tuple[Container, Path]]:
    """The bot's services on SQLite and on PostgreSQL, and the reviewer's identity."""
    identity = tmp_path / "reviewer.txt"
    async with opened_container(data_dir, db_url, identity) as opened:
        yield opened, identity


def ledger_ids(store: Path) -> list[str]:
    path = store / CASE / "ledger.jsonl"
    return [json.loads(line)["statement_id"] for line in path.read_text().splitlines()]


async def test_sealing_is_idempotent_and_erases_the_bots_readable_copy(
    container: tuple[Container, Path], tmp_path: Path
) -> None:
    c, identity = container
    code = (await c.invites.create(CASE, "family")).code
    person = Participant(c, 9001)
    canary = "She sang on the stairs cnry7f3a91"
    await person.to_readback(code, canary)
    statement_id = await person.send()
    consents = await count(c, ConsentRecord)
    async with c.sessions() as session:
        submitted = await session.get(Statement, statement_id)
        assert submitted is not None and submitted.interview_id is not None
        interview = await session.get(Interview, submitted.interview_id)
        assert interview is not None and interview.dek_id is not None
        dek_id = interview.dek_id

    # Sealing twice (the handler, then a sweep racing it) gives one ledger entry, one receipt
    sealing = c.conversation.sealing
    assert sealing is not None
    first, second = await asyncio.gather(sealing.seal(statement_id), sealing.seal(statement_id))
    sealed = first or second
    assert sealed is not None and (first is None or second is None)
    assert await sealing.sweep() == 0
    store = c.settings.evidence_path
    assert ledger_ids(store) == [statement_id]

    # The bot's readable copy is gone: data key shredded, answers deleted, no plaintext on disk
    async with c.sessions() as session:
        row = await session.get(Statement, statement_id)
        assert row is not None and row.state == "sealed" and row.body_ct is None
        assert row.receipt_code == sealed.receipt_code
    assert await count(c, Answer) == 0
    assert await count(c, ConsentRecord) == consents
    assert await count(c, DataKeyRow, col(DataKeyRow.id) == dek_id) == 0
    for path in c.settings.data_dir.rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path

    # And the reviewer opens exactly what was said
    out = tmp_path / "out"
    signer = TrustedSigner(signer_fingerprint(c.settings))  # as `casevoice case show` prints it
    result = pull_case(
        LocalEvidenceStore(store), CASE, load_identities(identity), out, signer=signer
    )
    assert [r.status for r in result.rows] == ["exported"]
    statement = statement_files(out)[statement_id]
    texts = [p["text"] for s in statement["sections"] for i in s["items"] for p in i["parts"]]
    assert texts == [canary]


async def test_evidence_written_but_database_not_updated_is_completed_by_the_sweep(
    container: tuple[Container, Path],
) -> None:
    c, _identity = container
    sealing = c.conversation.sealing
    assert sealing is not None
    codes = [(await c.invites.create(CASE, "family")).code for _ in range(2)]
    ids = []
    for n, code in enumerate(codes):
        person = Participant(c, 9100 + n)
        await person.to_readback(code, f"answer {n}")
        ids.append(await person.send())

    # Given the first statement sealed into the store, then a crash before the database knew
    prepared = await sealing._bundle(ids[0])  # noqa: SLF001 - recreating a crash's half-state
    assert prepared is not None
    written = await asyncio.to_thread(sealing.writer.seal_statement, *prepared)
    async with c.sessions() as session:
        assert (await session.get(Statement, ids[0])).state == "submitted"  # type: ignore[union-attr]

    # When the sweep runs (as at start-up), both are sealed; the first reuses its ledger entry
    assert await sealing.sweep() == 2
    assert sorted(ledger_ids(c.settings.evidence_path)) == sorted(ids)
    assert ledger_ids(c.settings.evidence_path)[0] == ids[0]
    async with c.sessions() as session:
        rows = (
            (await session.execute(select(Statement).where(col(Statement.id).in_(ids))))
            .scalars()
            .all()
        )
    assert {r.state for r in rows} == {"sealed"}
    assert next(r for r in rows if r.id == ids[0]).receipt_code == written.receipt_code
    assert await sealing.sweep() == 0


# -- sealing racing a withdrawal (PostgreSQL: writers run side by side) -------------------------
#
# On SQLite a writing transaction holds the database-wide write lock from its first statement,
# so a sealing and a withdrawal are one after the other whatever they read. On PostgreSQL they
# overlap: a sweep (or another bot process) sealing a statement while its author withdraws.

pg_only = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


async def waiting_for_locks(c: Container) -> int:
    """Sessions of this database that are waiting for a lock another transaction holds."""
    async with c.sessions() as session:
        found = await session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return int(found.scalar_one())


def ledger_entries(c: Container) -> list[tuple[str, str]]:
    path = c.settings.evidence_path / CASE / "ledger.jsonl"
    return [(e["kind"], e["statement_id"]) for e in map(json.loads, path.read_text().splitlines())]


async def submitted_and_confirming_withdrawal(
    c: Container, user_id: int
) -> tuple[Participant, str]:
    person = Participant(c, user_id)
    await person.to_readback((await c.invites.create(CASE, "family")).code, "an answer")
    statement_id = await person.send()
    assert said(await person.command("withdraw")) == P.CONFIRM_WITHDRAW
    return person, statement_id


@pg_only
async def test_a_withdrawal_committed_while_sealing_waits_is_not_overwritten(
    container: tuple[Container, Path],
) -> None:
    c, _identity = container
    sealing = c.conversation.sealing
    assert sealing is not None
    person, statement_id = await submitted_and_confirming_withdrawal(c, 9501)

    # Given the person's withdrawal under way (its transaction not committed yet)
    async with c.sessions() as session:
        await session.begin()
        assert (
            said(await c.conversation.press(session, person.user_hash, unpack("wdy")))
            == P.WITHDRAWN
        )
        await session.flush()

        # When a sweep seals the statement meanwhile: its evidence is written, its database
        # step waits for the withdrawal
        sealing_task = asyncio.create_task(sealing.seal(statement_id))
        await until(lambda: waiting_for_locks(c), timeout=30)
        await session.commit()
    await sealing_task

    # Then the withdrawal stands, and the reviewer's ledger says so after the statement
    async with c.sessions() as session:
        row = await session.get(Statement, statement_id)
        assert row is not None and row.state == "withdrawn"
    assert ledger_entries(c) == [("statement", statement_id), ("withdrawal", statement_id)]


@pg_only
async def test_a_withdrawal_while_the_sealing_commits_gives_the_reviewer_a_notice(
    container: tuple[Container, Path],
) -> None:
    c, _identity = container
    sealing = c.conversation.sealing
    assert sealing is not None
    person, statement_id = await submitted_and_confirming_withdrawal(c, 9502)

    # Given a sealing whose database step is under way, held up on the audit log (another
    # writer is appending to it)
    async with c.sessions() as other_writer:
        await other_writer.begin()
        await other_writer.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK})
        sealing_task = asyncio.create_task(sealing.seal(statement_id))
        await until(lambda: waiting_for_locks(c), timeout=30)

        # When the person confirms the withdrawal meanwhile
        withdrawing = asyncio.create_task(person.press("wdy"))
        await until(lambda: _at_least(waiting_for_locks(c), 2), timeout=30)
        await other_writer.commit()
    await sealing_task
    assert said(await withdrawing) == P.WITHDRAWN

    # Then the sealed statement is withdrawn with a signed notice the reviewer will see
    async with c.sessions() as session:
        row = await session.get(Statement, statement_id)
        assert row is not None and row.state == "withdrawn"
    assert ledger_entries(c) == [("statement", statement_id), ("withdrawal", statement_id)]


async def _at_least(count: Awaitable[int], n: int) -> bool:
    return await count >= n
