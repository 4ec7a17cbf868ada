"""Invites: single use (also under a race), expiring, unguessable, rate-limited; both databases."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from interview.services.invites import MAX_FAILURES, InviteService, Redeemed
from storage.tables import AuditEvent, Invite, Participant, RateCounter, utcnow
from tests.conftest import Storage
from tests.integration.scenario import recipient, services

REF = "LCSPR-2026-03"


async def _invite(storage: Storage) -> tuple[InviteService, str]:
    cases, invites = services(storage)
    await cases.create(REF, [recipient()])
    created = await invites.create(REF, "professional", label="Health visitor")
    return invites, created.code


async def _redeem(
    storage: Storage, invites: InviteService, code: str, user_id: int
) -> Redeemed | None:
    async with storage.sessions() as session, session.begin():
        return await invites.redeem(session, code, storage.vault.user_hash(user_id))


async def test_given_a_new_invite_then_its_code_is_long_urlsafe_and_stored_only_hashed(
    storage: Storage,
) -> None:
    invites, code = await _invite(storage)

    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", code)
    async with storage.sessions() as session:
        row = (await session.execute(select(Invite))).scalars().one()
    assert row.code_hash == storage.vault.invite_hash(code) != code
    assert code not in row.code_hash
    assert row.expires_at - utcnow() > timedelta(days=13)


async def test_given_an_invite_when_redeemed_then_once_only(storage: Storage) -> None:
    invites, code = await _invite(storage)

    first = await _redeem(storage, invites, code, 1001)
    second = await _redeem(storage, invites, code, 1002)

    assert first is not None and second is None
    async with storage.sessions() as session:
        participant = await session.get(Participant, first.participant_id)
        assert participant is not None
        assert participant.user_hash == storage.vault.user_hash(1001)
        assert participant.status == "enrolled"
        actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    assert actions.count("invite.redeem") == 1


async def test_given_a_redeemed_invite_when_the_same_person_sends_it_again_then_same_participant(
    storage: Storage,
) -> None:
    invites, code = await _invite(storage)
    first = await _redeem(storage, invites, code, 1001)

    replay = await _redeem(storage, invites, code, 1001)

    assert replay == first is not None
    async with storage.sessions() as session:
        assert await session.get(RateCounter, f"start|{storage.vault.user_hash(1001)}") is None
        actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    assert actions.count("invite.redeem") == 1


async def test_given_two_concurrent_redemptions_of_one_code_then_exactly_one_wins(
    storage: Storage,
) -> None:
    invites, code = await _invite(storage)

    for _ in range(3):  # the race is real: give it several chances to go wrong
        results = await asyncio.gather(
            _redeem(storage, invites, code, 2001), _redeem(storage, invites, code, 2002)
        )
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        async with storage.sessions() as session:
            participant = await session.get(Participant, winners[0].participant_id)
            assert participant is not None
            winner_id = 2001 if results[0] is not None else 2002
            assert participant.user_hash == storage.vault.user_hash(winner_id)
            invite = (
                (
                    await session.execute(
                        select(Invite).where(Invite.code_hash == storage.vault.invite_hash(code))
                    )
                )
                .scalars()
                .one()
            )
            assert invite.redeemed_by_hash == storage.vault.user_hash(winner_id)
        # A fresh invite for the next round.
        _, invites = services(storage)
        code = (await invites.create(REF, "family")).code


# PostgreSQL only, not a skip on SQLite: there every transaction is BEGIN IMMEDIATE, so the
# second waits for the first and this race cannot happen (the race above covers SQLite).
@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_given_two_concurrent_redemptions_in_open_transactions_then_exactly_one_wins(
    storage: Storage,
) -> None:
    """Both transactions have already read before either writes: the harder race."""
    assert storage.url.startswith("postgresql")
    invites, code = await _invite(storage)
    barrier = asyncio.Barrier(2)

    async def redeem(user_id: int) -> Redeemed | None:
        async with storage.sessions() as session, session.begin():
            await session.execute(select(Invite.id))
            await barrier.wait()
            return await invites.redeem(session, code, storage.vault.user_hash(user_id))

    results = await asyncio.gather(redeem(3001), redeem(3002))

    assert len([r for r in results if r is not None]) == 1


async def test_given_an_expired_invite_then_refused(storage: Storage) -> None:
    invites, code = await _invite(storage)
    async with storage.sessions() as session, session.begin():
        await session.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))

    assert await _redeem(storage, invites, code, 1001) is None
    async with storage.sessions() as session:
        row = (await session.execute(select(Invite))).scalars().one()
        assert row.redeemed_at is None
        participant = (await session.execute(select(Participant))).scalars().one()
        assert participant.user_hash is None


async def test_given_garbage_codes_then_refused(storage: Storage) -> None:
    invites, code = await _invite(storage)

    for user_id, garbage in enumerate(
        ["", "x", "not a code!", code[:-1], code + "A", code.swapcase(), "A" * 65, "🙂" * 5]
    ):
        assert await _redeem(storage, invites, garbage, 4000 + user_id) is None
    assert await _redeem(storage, invites, code, 5000) is not None


async def test_given_too_many_failures_then_even_a_good_code_is_refused_for_a_while(
    storage: Storage,
) -> None:
    invites, code = await _invite(storage)
    for attempt in range(MAX_FAILURES):
        assert await _redeem(storage, invites, f"guess{attempt:027d}", 6001) is None

    assert MAX_FAILURES == 5
    assert await _redeem(storage, invites, code, 6001) is None  # rate-limited
    async with storage.sessions() as session:
        assert (await session.execute(select(Invite))).scalars().one().redeemed_at is None
    # Someone else is not affected by one person's guessing.
    assert await _redeem(storage, invites, code, 6002) is not None


async def test_given_the_failure_window_passed_then_the_person_may_try_again(
    storage: Storage,
) -> None:
    invites, code = await _invite(storage)
    for attempt in range(MAX_FAILURES):
        assert await _redeem(storage, invites, f"guess{attempt}", 6101) is None
    assert await _redeem(storage, invites, code, 6101) is None
    async with storage.sessions() as session, session.begin():
        await session.execute(
            update(RateCounter).values(window_start=utcnow() - timedelta(minutes=16))
        )

    assert await _redeem(storage, invites, code, 6101) is not None


async def test_given_concurrent_failed_attempts_by_one_person_then_each_is_counted(
    storage: Storage,
) -> None:
    """The failure counter is one atomic upsert: simultaneous guesses never collide."""
    invites, _ = await _invite(storage)

    results = await asyncio.gather(
        *(_redeem(storage, invites, f"guess{n:027d}", 4242) for n in range(4))
    )

    assert results == [None] * 4
    async with storage.sessions() as session:
        row = await session.get(RateCounter, f"start|{storage.vault.user_hash(4242)}")
    assert row is not None and row.count == 4
