"""The durable transcription queue with the real database, cipher and Whisper worker pool.

Claims have one winner on SQLite and PostgreSQL; a running job's lease is kept alive by a
heartbeat and a dead worker's job is taken over once its short lease runs out; bad audio fails
once, kindly. The loop tests use the real tiny.en model in a real worker process. All of it
runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import update
from sqlmodel import col

from interview.services.answer_store import AnswerStore
from interview.services.replies import Say
from interview.services.transcribing import TranscriptionLoop
from storage.crypto import FieldRef
from storage.jobs import AGING, MAX_ATTEMPTS, JobQueue, TranscriptionJob
from storage.tables import Answer, AnswerVersion, AudioBlob, Interview, Transcript, utcnow
from tests.conftest import Storage
from tests.e2e.voice_helpers import silent_ogg
from tests.e2e.world import until
from tests.fixtures import clip
from tests.integration.scenario import Written, write_story
from transcription import errors as E
from transcription.pool import PoolConfig, WorkerPool

CHAT = 4242
_notes = count(1)
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class Told:
    """A notifier that remembers what the person would have been told."""

    started: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    said: dict[str, Say] = field(default_factory=dict)
    begun: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def working(self, chat_id: int, job_id: str) -> None:
        self.started.append(job_id)
        self.begun.set()

    async def progress(self, chat_id: int, job_id: str, text: str) -> None:
        self.shown.append(text)

    async def finished(self, chat_id: int, job_id: str, say: Say) -> None:
        assert chat_id == CHAT
        self.said[job_id] = say
        self.done.set()


async def story(storage: Storage) -> Written:
    return await write_story(
        storage,
        ref=f"LCSPR-Q-{next(_notes)}",
        title="A review",
        label="Mother",
        answer="typed first",
        telegram_user_id=1234,
    )


async def queue_note(
    storage: Storage, written: Written, data: bytes, duration: float | None
) -> str:
    """What VoiceService.accept stores: encrypted audio, an empty voice part, its job."""
    async with storage.sessions() as session, session.begin():
        interview = await session.get(Interview, written.redeemed.interview_id)
        assert interview is not None and interview.dek_id is not None
        answer = await AnswerStore(storage.vault).add_part(
            session,
            interview,
            "child-who",
            "voice",
            "",
            source_key=f"msg:{next(_notes)}",
            versioned=False,
        )
        assert answer is not None
        blob = AudioBlob(
            interview_id=interview.id,
            answer_id=answer.id,
            mime_type="audio/ogg",
            duration_s=duration,
            size=len(data),
            data_ct=b"",
        )
        blob.data_ct = await storage.vault.seal(
            session, interview.dek_id, FieldRef("audio_blobs", blob.id, "data"), data
        )
        session.add(blob)
        await session.flush()
        job = TranscriptionJob(
            audio_id=blob.id,
            answer_id=answer.id,
            interview_id=interview.id,
            duration_s=duration,
            language="en",
        )
        job.chat_ct = await storage.vault.seal(
            session,
            interview.dek_id,
            FieldRef("transcription_jobs", job.id, "chat"),
            str(CHAT).encode(),
        )
        session.add(job)
        return job.id


async def job_row(storage: Storage, job_id: str) -> TranscriptionJob:
    async with storage.sessions() as session:
        job = await session.get(TranscriptionJob, job_id)
        assert job is not None
        return job


async def claim(storage: Storage, job_id: str, seconds: float = 20.0) -> bool:
    async with storage.sessions() as session, session.begin():
        return await JobQueue.claim(session, job_id, timedelta(seconds=seconds))


# -- the queue, on both databases -------------------------------------------------------------


async def test_a_claim_has_one_winner_and_an_expired_lease_is_claimed_again(
    storage: Storage,
) -> None:
    # Given a queued job
    job_id = await queue_note(storage, await story(storage), b"not read here", 3.0)

    # When eight workers claim it at once, exactly one wins
    wins = await asyncio.gather(*(claim(storage, job_id) for _ in range(8)))
    assert sorted(wins) == [False] * 7 + [True]
    assert not await claim(storage, job_id), "a live lease was taken over"

    # The heartbeat pushes the lease on
    before = (await job_row(storage, job_id)).lease_until
    async with storage.sessions() as session, session.begin():
        assert await JobQueue.renew(session, job_id, timedelta(seconds=60))
    after = (await job_row(storage, job_id)).lease_until
    assert before is not None and after is not None and after > before

    # Once the lease has run out (its owner died), the next claim wins; attempts are counted
    async with storage.sessions() as session, session.begin():
        await session.execute(
            update(TranscriptionJob)
            .where(col(TranscriptionJob.id) == job_id)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
        assert job_id in await JobQueue.claimable(session)
    assert await claim(storage, job_id)
    assert (await job_row(storage, job_id)).attempts == 2

    # A finished job is neither renewed nor claimed
    async with storage.sessions() as session, session.begin():
        job = await session.get(TranscriptionJob, job_id)
        assert job is not None
        await JobQueue.finish(session, job, "done")
    async with storage.sessions() as session, session.begin():
        assert not await JobQueue.renew(session, job_id, timedelta(seconds=60))
        assert job_id not in await JobQueue.claimable(session)
    assert not await claim(storage, job_id)


async def test_a_failing_job_is_retried_a_bounded_number_of_times(storage: Storage) -> None:
    job_id = await queue_note(storage, await story(storage), b"x", 3.0)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await claim(storage, job_id)
        async with storage.sessions() as session, session.begin():
            job = await session.get(TranscriptionJob, job_id)
            assert job is not None and job.attempts == attempt
            requeued = await JobQueue.release(session, job, "TranscriptionTimeout")
        assert requeued == (attempt < MAX_ATTEMPTS)
    job = await job_row(storage, job_id)
    assert (job.state, job.error_type) == ("failed", "TranscriptionTimeout")
    assert not await claim(storage, job_id)


async def test_the_shortest_note_goes_first_unless_one_has_waited_too_long(
    storage: Storage,
) -> None:
    written = await story(storage)
    long, short, middle = [await queue_note(storage, written, b"x", d) for d in (100, 5, 30)]
    unknown = await queue_note(storage, written, b"x", None)
    async with storage.sessions() as session, session.begin():
        assert await JobQueue.claimable(session) == [short, middle, long, unknown]
        # A long note queued before the aging limit is not starved by a stream of short ones
        await session.execute(
            update(TranscriptionJob)
            .where(col(TranscriptionJob.id) == long)
            .values(created_at=utcnow() - AGING - timedelta(seconds=1))
        )
    async with storage.sessions() as session:
        assert await JobQueue.claimable(session) == [long, short, middle, unknown]


# -- the loop with a real worker process, on both databases ------------------------------------


@pytest.fixture
async def pool(storage: Storage) -> AsyncIterator[WorkerPool]:
    pool = WorkerPool(
        PoolConfig(
            model="tiny.en", data_dir=storage.data_dir, workers=1, beam_size=1, max_seconds=120.0
        )
    )
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def run_until_told(
    storage: Storage,
    pool: WorkerPool,
    told: Told,
    *,
    lease_seconds: float = 20.0,
    timeout: float = 60.0,  # noqa: ASYNC109
) -> None:
    loop = TranscriptionLoop(
        storage.sessions, storage.vault, pool, told, poll_seconds=0.1, lease_seconds=lease_seconds
    )
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        await asyncio.wait_for(told.done.wait(), timeout)
        # A heard note's "notified" flag is committed just after the person is told: wait for
        # it (a failed note is final before telling).
        for job_id in told.said:
            await until(lambda j=job_id: settled(storage, j))
    finally:
        stop.set()
        await task


async def settled(storage: Storage, job_id: str) -> bool:
    job = await job_row(storage, job_id)
    return job.state == "failed" or (job.state == "done" and job.notified)


async def versions_of(storage: Storage, answer_id: str) -> list[tuple[str, str, str | None]]:
    async with storage.sessions() as session:
        rows = await session.execute(
            AnswerVersion.__table__.select().where(  # type: ignore[attr-defined]
                AnswerVersion.__table__.c.answer_id == answer_id
            )
        )  # type: ignore[attr-defined]
        return [(r.source, r.author, r.model_id) for r in rows]


async def transcripts(storage: Storage) -> list[Transcript]:
    async with storage.sessions() as session:
        result = await session.execute(Transcript.__table__.select())  # type: ignore[attr-defined]
        return list(result.all())  # type: ignore[arg-type]


async def test_a_note_is_transcribed_stored_encrypted_and_the_person_told(
    storage: Storage, pool: WorkerPool
) -> None:
    # Given a stored voice note and its job
    job_id = await queue_note(storage, await story(storage), clip("real_goforward"), 3.0)
    told = Told()

    # When the loop runs
    await run_until_told(storage, pool, told)

    # Then the person saw it working, then what was heard, with the three buttons
    assert told.started == [job_id]
    say = told.said[job_id]
    assert say.text.startswith("Here is what I heard") and "forward" in say.text.lower()
    assert [b.action for row in say.buttons for b in row] == ["vok", "vfix", "vre"]
    job = await job_row(storage, job_id)
    assert (job.state, job.attempts, job.notified, job.lease_until) == ("done", 1, True, None)
    assert await versions_of(storage, job.answer_id) == [
        ("transcript", "transcriber", "whisper-tiny.en-ct2-int8")
    ]
    (row,) = await transcripts(storage)
    assert b"forward" not in row.body_ct and b"FORWARD" not in row.body_ct.upper()


async def test_a_job_left_by_a_dead_worker_is_taken_over_when_its_short_lease_ends(
    storage: Storage, pool: WorkerPool
) -> None:
    # Given a job claimed by a worker that then died (its lease: 2 s, never renewed)
    job_id = await queue_note(storage, await story(storage), clip("real_goforward"), 3.0)
    assert await claim(storage, job_id, seconds=2.0)
    told = Told()

    # When a live loop runs, it waits out the lease and then finishes the job, once
    started = asyncio.get_running_loop().time()
    await run_until_told(storage, pool, told)
    assert asyncio.get_running_loop().time() - started >= 1.5
    job = await job_row(storage, job_id)
    assert (job.state, job.attempts) == ("done", 2)
    assert len(await transcripts(storage)) == 1
    assert len(await versions_of(storage, job.answer_id)) == 1


async def test_a_running_job_keeps_its_lease_while_it_works(
    storage: Storage, pool: WorkerPool
) -> None:
    # Given a 30-second note and a loop whose lease (1 s) is far shorter than the job
    job_id = await queue_note(storage, await story(storage), clip("tts_m1"), 30.0)
    told = Told()
    stolen: list[bool] = []

    async def rival() -> None:
        """Another worker trying to take the job all along, once the loop has it."""
        await told.begun.wait()
        while not told.done.is_set():
            stolen.append(await claim(storage, job_id, seconds=1.0))
            await asyncio.sleep(0.2)

    # When it runs, the heartbeat keeps the job its own: the rival never wins
    rivalry = asyncio.create_task(rival())
    await run_until_told(storage, pool, told, lease_seconds=1.0)
    await rivalry
    job = await job_row(storage, job_id)
    assert len(stolen) >= 5 and not any(stolen), stolen
    assert (job.state, job.attempts) == ("done", 1)
    assert len(await transcripts(storage)) == 1


async def test_bad_audio_fails_once_kindly_and_the_audio_is_kept(
    storage: Storage, pool: WorkerPool
) -> None:
    job_id = await queue_note(storage, await story(storage), os.urandom(30_000), 3.0)
    told = Told()
    await run_until_told(storage, pool, told)
    say = told.said[job_id]
    assert say.text.startswith("Sorry, I couldn't write down that voice note")
    assert E.NotAudioError.user_message in say.text
    assert [b.action for row in say.buttons for b in row] == ["vre"]
    job = await job_row(storage, job_id)
    assert (job.state, job.attempts, job.error_type) == ("failed", 1, "NotAudioError")
    async with storage.sessions() as session:
        answer = await session.get(Answer, job.answer_id)
        blob = await session.get(AudioBlob, job.audio_id)
    assert answer is not None and answer.status == "unheard"
    assert blob is not None and blob.data_ct


@sqlite_only  # the pool alone: no database plays a part
async def test_too_long_audio_names_the_configured_limit(
    storage: Storage, pool: WorkerPool
) -> None:
    with pytest.raises(E.AudioTooLongError) as raised:
        await pool.transcribe(silent_ogg(125), duration=10.0, language="en")
    assert "about 2 minutes" in raised.value.user_message
    # The worker survives bad audio: the next note is transcribed
    transcript = await pool.transcribe(clip("real_goforward"), duration=3.0, language="en")
    assert "forward" in transcript.text.lower()
