"""The conversation services on SQLite and PostgreSQL: what each step of an interview leaves in
the database, with the real services, cipher and evidence store (no Telegram).

Each call is one transaction, as the bot's unit of work makes it. Concurrency is real on
PostgreSQL (no database-wide write lock), so the many-people test matters most there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.container import Container
from interview.services import phrases as P
from storage.crypto import FieldRef
from storage.jobs import JobQueue, TranscriptionJob
from storage.tables import (
    Answer,
    AnswerVersion,
    AudioBlob,
    DataKeyRow,
    Interview,
    Statement,
)
from storage.tables import Participant as ParticipantRow
from tests.e2e.voice_helpers import silent_ogg
from tests.integration.conversation import (
    CASE,
    Participant,
    count,
    opened_container,
    prompt_of,
    said,
)


@pytest.fixture
async def c(tmp_path: Path, data_dir: Path, db_url: str) -> AsyncIterator[Container]:
    async with opened_container(data_dir, db_url, tmp_path / "reviewer.txt") as opened:
        yield opened


async def interview_of(c: Container, person: Participant) -> Interview:
    async with c.sessions() as session:
        found = (
            (
                await session.execute(
                    select(Interview)
                    .join(ParticipantRow, col(ParticipantRow.id) == Interview.participant_id)
                    .where(col(ParticipantRow.user_hash) == person.user_hash)
                )
            )
            .scalars()
            .one()
        )
        return found


async def parts(c: Container, interview_id: str) -> dict[str, int]:
    """Active answer parts per prompt."""
    async with c.sessions() as session:
        rows = (
            (
                await session.execute(
                    select(Answer).where(
                        col(Answer.interview_id) == interview_id, col(Answer.status) == "active"
                    )
                )
            )
            .scalars()
            .all()
        )
    found: dict[str, int] = {}
    for row in rows:
        found[row.prompt_id] = found.get(row.prompt_id, 0) + 1
    return found


async def texts(c: Container, interview: Interview) -> list[str]:
    """The active parts' texts, decrypted, in the order they were given."""
    assert interview.dek_id is not None
    async with c.sessions() as session:
        rows = (
            (
                await session.execute(
                    select(Answer)
                    .where(col(Answer.interview_id) == interview.id, col(Answer.status) == "active")
                    .order_by(col(Answer.seq))
                )
            )
            .scalars()
            .all()
        )
        return [
            await c.vault.open_text(
                session, interview.dek_id, FieldRef("answers", row.id, "text"), row.text_ct or b""
            )
            for row in rows
        ]


async def versions(c: Container, interview_id: str, source_key: str) -> list[tuple[int, str]]:
    async with c.sessions() as session:
        rows = await session.execute(
            select(AnswerVersion.version, AnswerVersion.source)
            .join(Answer, col(Answer.id) == AnswerVersion.answer_id)
            .where(col(Answer.interview_id) == interview_id, col(Answer.source_key) == source_key)
            .order_by(col(AnswerVersion.version))
        )
        return [(int(v), str(s)) for v, s in rows.all()]


async def test_every_step_is_stored_once_and_the_interview_resumes_where_it_was(
    c: Container,
) -> None:
    # Given a family member who has consented
    person = Participant(c, 9201)
    code = (await c.invites.create(CASE, "family")).code
    assert prompt_of(await person.consent(code)) == "relationship"
    interview = await interview_of(c, person)

    # A message Telegram delivers twice is one part; a second message is a second part
    first = person.next_key()
    await person.text("I am his aunt", first)
    again = await person.text("I am his aunt", first)
    assert P.SAVED in said(again)
    await person.text("and his godmother")
    assert await parts(c, interview.id) == {"relationship": 2}

    # Editing a sent message keeps both versions of that part
    assert said(await person.edited("I am his mother's sister", first)) == P.SAVED_CHOICE
    assert await versions(c, interview.id, first) == [(1, "typed"), (2, "typed")]

    # Done, Back and Done again land on the same next prompt; nothing is lost on the way
    assert prompt_of(await person.press("done:relationship")) == "child_name"
    assert prompt_of(await person.press("back:child_name")) == "relationship"
    assert prompt_of(await person.press("done:relationship")) == "child_name"
    assert await parts(c, interview.id) == {"relationship": 2}

    # Pause and resume: the state is in the database, not in memory
    assert P.PAUSED in said(await person.command("pause"))
    assert (await interview_of(c, person)).state == "paused"
    resumed = await person.command("resume")
    assert P.WELCOME_BACK in said(resumed) and prompt_of(resumed) == "child_name"

    # A voice note: its audio (encrypted), its part and its transcription job, together
    await person.voice(silent_ogg(1.0))
    async with c.sessions() as session:
        (job_id,) = await JobQueue.claimable(session)
        job = await session.get(TranscriptionJob, job_id)
        assert job is not None and job.state == "queued" and job.interview_id == interview.id
        blob = await session.get(AudioBlob, job.audio_id)
        assert blob is not None and b"OggS" not in blob.data_ct
    assert await parts(c, interview.id) == {"relationship": 2, "child_name": 1}

    # Skipping a prompt with an answer sets that answer aside
    assert prompt_of(await person.press("skip:child_name")) == "about_child"
    assert await parts(c, interview.id) == {"relationship": 2}
    position = json.loads((await interview_of(c, person)).position or "{}")
    assert position["skipped"] == ["child_name"]
    assert position["cursor"]["prompt_id"] == "about_child"


async def test_withdrawing_a_sealed_statement_and_deleting_everything(c: Container) -> None:
    sealing = c.conversation.sealing
    assert sealing is not None

    # Given one person whose statement is sealed
    sealed_person = Participant(c, 9301)
    await sealed_person.to_readback((await c.invites.create(CASE, "family")).code, "answer one")
    statement_id = await sealed_person.send()
    sealed = await sealing.seal(statement_id)
    assert sealed is not None
    receipt = said(await sealed_person.command("receipt"))
    assert receipt == P.RECEIPTS.format(codes=sealed.receipt_code)

    # When they withdraw, the reviewer's ledger gets a signed notice; the row says withdrawn
    assert said(await sealed_person.command("withdraw")) == P.CONFIRM_WITHDRAW
    assert said(await sealed_person.press("wdy")) == P.WITHDRAWN
    async with c.sessions() as session:
        row = await session.get(Statement, statement_id)
        assert row is not None and row.state == "withdrawn"
    ledger = (c.settings.evidence_path / CASE / "ledger.jsonl").read_text().splitlines()
    entries = [(e["kind"], e["statement_id"]) for e in map(json.loads, ledger)]
    assert entries == [("statement", statement_id), ("withdrawal", statement_id)]

    # And another person, part-way with a voice note waiting, deletes everything
    deleting = Participant(c, 9302)
    await deleting.consent((await c.invites.create(CASE, "professional")).code)
    await deleting.text("Social worker")
    await deleting.voice(silent_ogg(1.0))
    interview = await interview_of(c, deleting)
    assert interview.dek_id is not None
    await deleting.command("delete")
    assert P.DELETED in said(await deleting.press("dly"))
    assert await count(c, Answer, col(Answer.interview_id) == interview.id) == 0
    assert await count(c, AudioBlob, col(AudioBlob.interview_id) == interview.id) == 0
    assert await count(c, TranscriptionJob, col(TranscriptionJob.interview_id) == interview.id) == 0
    assert await count(c, DataKeyRow, col(DataKeyRow.id) == interview.dek_id) == 0
    assert await count(c, ParticipantRow, col(ParticipantRow.user_hash) == deleting.user_hash) == 0
    assert said(await deleting.command("resume")) == P.STRANGER


async def test_many_people_at_once_each_get_their_own_answers_and_the_audit_chain_holds(
    c: Container,
) -> None:
    # Given twelve people, each with an invite
    codes = [(await c.invites.create(CASE, "family")).code for _ in range(12)]
    people = [Participant(c, 9400 + n) for n in range(12)]

    async def interview(person: Participant, code: str) -> None:
        await person.consent(code)
        for n in range(3):
            await person.text(f"answer {n} from {person.user_id}")
        await person.press("done:relationship")
        await person.text(f"child of {person.user_id}")

    async with c.sessions() as session:
        before = (await c.audit.verify(session)).events

    # When they all go at the same time (one transaction per step, interleaved)
    await asyncio.gather(*(interview(p, code) for p, code in zip(people, codes, strict=True)))

    # Then each interview holds exactly its own answers, and the audit chain is one chain
    for person in people:
        found = await interview_of(c, person)
        assert await parts(c, found.id) == {"relationship": 3, "child_name": 1}
        assert await texts(c, found) == [
            *(f"answer {n} from {person.user_id}" for n in range(3)),
            f"child of {person.user_id}",
        ]
    async with c.sessions() as session:
        report = await c.audit.verify(session)
    assert report.ok, report.problem
    assert report.events == before + 12 * 2  # each: the invite redeemed, the consent recorded
