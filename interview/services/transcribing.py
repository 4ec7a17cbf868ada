"""The transcription loop: claim a job, decrypt its audio in memory, transcribe it in a worker
process, store the encrypted transcript as the answer's first version, tell the person.

It runs inside the bot (embedded default) or in ``casevoice worker`` processes. Audio and
transcripts exist in plaintext only in memory and in the pipe to the worker.

A claimed job's lease is short and renewed every few seconds while the job runs, so a process
killed mid-job (kill -9, power loss) gives its job back within ``LEASE_SECONDS``, not after the
whole time budget. The pool, not the lease, bounds how long a job may take.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import asdict
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.services import phrases as P
from interview.services.answer_store import AnswerStore
from interview.services.replies import Say
from interview.services.voice import failed_buttons, heard_say
from storage.crypto import FieldRef
from storage.db import reading, writing
from storage.errors import CaseVoiceError, KeyShreddedError
from storage.jobs import JobQueue, JobState, TranscriptionJob
from storage.tables import Answer, AnswerStatus, AudioBlob, Interview
from storage.tables import Transcript as TranscriptRow
from storage.vault import Vault
from transcription.errors import AudioError, SilenceError, TranscriptionError
from transcription.pool import WorkerPool
from transcription.transcript import Transcript, render_for_participant

log = logging.getLogger(__name__)
PROGRESS_EVERY = 1.0
LEASE_SECONDS = 20.0


class VoiceNotifier(Protocol):
    """How the loop talks to the person (Telegram in the bot; anything in tests)."""

    async def working(self, chat_id: int, job_id: str) -> None: ...
    async def progress(self, chat_id: int, job_id: str, text: str) -> None: ...
    async def finished(self, chat_id: int, job_id: str, say: Say) -> None: ...


class TranscriptionLoop:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: Vault,
        pool: WorkerPool,
        notifier: VoiceNotifier,
        *,
        poll_seconds: float = 0.5,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.answers = AnswerStore(vault)
        self.pool = pool
        self.notifier = notifier
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self._running: set[asyncio.Task[None]] = set()
        self.wakeup = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and process jobs until ``stop``; jobs still running then are cancelled (their
        leases lapse and another worker, or the next start, takes them again)."""
        async with asyncio.TaskGroup() as jobs:
            while not stop.is_set():
                free = self.pool.size - len(self._running)
                if free > 0:
                    with contextlib.suppress(Exception):
                        await self._claim_some(jobs, free)
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.poll_seconds)
            for task in list(self._running):
                task.cancel()

    async def _claim_some(self, jobs: asyncio.TaskGroup, free: int) -> None:
        async with writing(self.sessions) as session:
            candidates = await JobQueue.claimable(session, limit=free * 2)
        for job_id in candidates:
            if free <= 0:
                break
            async with writing(self.sessions) as session:
                won = await JobQueue.claim(session, job_id, self.lease)
            if won:
                free -= 1
                task = jobs.create_task(self._keep_leased(job_id), name=f"job-{job_id}")
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _keep_leased(self, job_id: str) -> None:
        """Process the job while a heartbeat renews its lease; the job's progress notices run
        beside it. A failure is contained to the job: its lease lapses and it is tried again."""
        try:
            async with asyncio.TaskGroup() as job:
                heartbeat = job.create_task(self._heartbeat(job_id))
                try:
                    await self._process(job_id, job)
                finally:
                    heartbeat.cancel()
        except* Exception as failed:
            log.error(
                "job %s failed: %s",
                job_id,
                ", ".join(type(exc).__name__ for exc in failed.exceptions),
            )

    async def _heartbeat(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 4)
            try:
                async with writing(self.sessions) as session:
                    if not await JobQueue.renew(session, job_id, self.lease):
                        return  # finished (or taken over): nothing left to keep
            except Exception as exc:  # noqa: BLE001 - the next beat tries again
                log.warning("job %s: lease renewal failed: %s", job_id, type(exc).__name__)

    @staticmethod
    async def _job_and_interview(
        session: AsyncSession, job_id: str
    ) -> tuple[TranscriptionJob, Interview, str] | None:
        """The job, its interview and that interview's data key id; None if any is gone
        (withdrawn, deleted or shredded meanwhile)."""
        job = await session.get(TranscriptionJob, job_id)
        interview = await session.get(Interview, job.interview_id) if job else None
        if job is None or interview is None or interview.dek_id is None:
            return None
        return job, interview, interview.dek_id

    async def _load(self, job_id: str) -> tuple[TranscriptionJob, bytes, int] | None:
        async with reading(self.sessions) as session:
            found = await self._job_and_interview(session, job_id)
            blob = await session.get(AudioBlob, found[0].audio_id) if found else None
            if found is None or blob is None:
                return None
            job, _interview, dek_id = found
            data = await self.vault.open(
                session, dek_id, FieldRef("audio_blobs", blob.id, "data"), blob.data_ct
            )
            chat = await self.vault.open(
                session, dek_id, FieldRef("transcription_jobs", job.id, "chat"), job.chat_ct or b""
            )
            return job, data, int(chat)

    async def _process(self, job_id: str, notices: asyncio.TaskGroup) -> None:
        started = time.perf_counter()
        try:
            loaded = await self._load(job_id)
        except KeyShreddedError:
            loaded = None  # withdrawn or deleted meanwhile: nothing to transcribe
        if loaded is None:
            async with writing(self.sessions) as session:
                job = await session.get(TranscriptionJob, job_id)
                if job is not None:
                    await JobQueue.finish(session, job, JobState.CANCELLED)
            return
        job, data, chat_id = loaded
        await self._safely(self.notifier.working(chat_id, job_id))
        pieces: list[str] = []
        last_shown = 0.0
        done = False  # a segment relayed after the job ended starts no notice

        def on_segment(text: str) -> None:
            nonlocal last_shown
            pieces.append(text)
            if time.monotonic() - last_shown >= PROGRESS_EVERY and not done:
                last_shown = time.monotonic()
                notices.create_task(
                    self._safely(self.notifier.progress(chat_id, job_id, " ".join(pieces)))
                )

        try:
            transcript = await self.pool.transcribe(
                data, duration=job.duration_s, language=job.language, on_segment=on_segment
            )
        except TranscriptionError as exc:
            await self._failed(job_id, chat_id, exc)
            return
        finally:
            done = True
            del data
        say = await self._store(job_id, transcript)
        log.info(
            "job %s transcribed %.1fs of audio in %.2fs",
            job_id,
            transcript.duration,
            time.perf_counter() - started,
        )
        if say is not None:
            await self._safely(self.notifier.finished(chat_id, job_id, say))
            async with writing(self.sessions) as session:
                stored = await session.get(TranscriptionJob, job_id)
                if stored is not None:
                    stored.notified = True
                    session.add(stored)

    async def _store(self, job_id: str, transcript: Transcript) -> Say | None:
        async with writing(self.sessions) as session:
            found = await self._job_and_interview(session, job_id)
            answer = await session.get(Answer, found[0].answer_id) if found else None
            if found is None or answer is None:
                return None
            job, interview, dek_id = found
            body = json.dumps(asdict(transcript), separators=(",", ":"))
            row = TranscriptRow(
                audio_id=job.audio_id,
                model_id=transcript.model_id,
                model_sha256=transcript.model_sha256,
                language=transcript.language,
                duration_s=transcript.duration,
                body_ct=b"",
            )
            row.body_ct = await self.vault.seal_text(
                session, dek_id, FieldRef("transcripts", row.id, "body"), body
            )
            session.add(row)
            await self.answers.set_text(
                session,
                interview,
                answer,
                transcript.text,
                source="transcript",
                author="transcriber",
                model_id=transcript.model_id,
            )
            await JobQueue.finish(session, job, JobState.DONE)
            return heard_say(answer.id, render_for_participant(transcript))

    async def _failed(self, job_id: str, chat_id: int, exc: TranscriptionError) -> None:
        """Bad audio is final (told at once); a crash or timeout is retried a few times."""
        final = isinstance(exc, AudioError | SilenceError)
        async with writing(self.sessions) as session:
            job = await session.get(TranscriptionJob, job_id)
            if job is None:
                return
            if not final and await JobQueue.release(session, job, type(exc).__name__):
                log.warning("job %s: %s; will retry", job_id, type(exc).__name__)
                return
            if final:
                await JobQueue.finish(session, job, JobState.FAILED, type(exc).__name__)
            answer = await session.get(Answer, job.answer_id)
            if answer is not None and answer.status == AnswerStatus.ACTIVE:
                answer.status = AnswerStatus.UNHEARD  # kept, encrypted; not part of the statement
                session.add(answer)
        log.info("job %s failed: %s", job_id, type(exc).__name__)
        reason = exc.user_message if isinstance(exc, CaseVoiceError) else ""
        await self._safely(
            self.notifier.finished(
                chat_id,
                job_id,
                Say(P.VOICE_FAILED.format(reason=reason), failed_buttons(job.answer_id)),
            )
        )

    @staticmethod
    async def _safely(coro: object) -> None:
        try:
            await coro  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - telling the person is best effort
            log.warning("voice notification failed: %s", type(exc).__name__)
