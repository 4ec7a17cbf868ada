"""The durable transcription queue: one row per voice note, claimed with a lease.

A job is written in the same transaction as the encrypted audio, so a stored voice note always
has a job. Workers claim a job by an atomic conditional UPDATE (exactly one wins, on SQLite and
PostgreSQL) for a short lease that the worker renews while it works (a heartbeat); a worker that
dies stops renewing, its lease expires within seconds and the job is claimed again. Each job is
retried a bounded number of times, then marked failed and the person is told.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import UTCDateTime, new_id, utcnow

MAX_ATTEMPTS = 3
AGING = timedelta(seconds=60)


class JobState(StrEnum):
    """``transcription_jobs.state`` (stored as the plain string)."""

    QUEUED = "queued"
    RUNNING = "running"  # claimed; the lease says until when
    DONE = "done"
    FAILED = "failed"  # bad audio, or out of attempts: the person was told
    CANCELLED = "cancelled"  # the interview was withdrawn or deleted meanwhile


class TranscriptionJob(SQLModel, table=True):
    __tablename__ = "transcription_jobs"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    audio_id: str = Field(
        foreign_key="audio_blobs.id", index=True, max_length=32, ondelete="CASCADE"
    )
    answer_id: str = Field(foreign_key="answers.id", index=True, max_length=32, ondelete="CASCADE")
    interview_id: str = Field(
        foreign_key="interviews.id", index=True, max_length=32, ondelete="CASCADE"
    )
    state: str = Field(default=JobState.QUEUED, max_length=16, index=True)
    attempts: int = 0
    duration_s: float | None = None
    language: str | None = Field(default=None, max_length=16)
    lease_until: datetime | None = Field(sa_type=UTCDateTime, default=None, nullable=True)
    chat_ct: bytes | None = None
    error_type: str | None = Field(default=None, max_length=64)
    notified: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    finished_at: datetime | None = Field(sa_type=UTCDateTime, default=None, nullable=True)


class JobQueue:
    """Queue operations; the caller owns the transaction."""

    @staticmethod
    async def claimable(session: AsyncSession, limit: int = 10) -> list[str]:
        """Shortest note first (its person's wait is the largest share of its target, 0.2 × length
        + 1.5 s), except that anything queued for over ``AGING`` goes first (no starvation)."""
        now = utcnow()
        waited_long = case((col(TranscriptionJob.created_at) < now - AGING, 0), else_=1)
        rows = await session.execute(
            select(TranscriptionJob.id)
            .where(
                or_(
                    col(TranscriptionJob.state) == JobState.QUEUED,
                    (col(TranscriptionJob.state) == JobState.RUNNING)
                    & (col(TranscriptionJob.lease_until) < now),
                )
            )
            .order_by(
                waited_long,
                func.coalesce(col(TranscriptionJob.duration_s), 600.0),
                col(TranscriptionJob.created_at),
            )
            .limit(limit)
        )
        return [str(r) for r in rows.scalars()]

    @staticmethod
    async def claim(session: AsyncSession, job_id: str, lease: timedelta) -> bool:
        """Take a job for ``lease``; False if someone else has it (or it is finished)."""
        now = utcnow()
        result = cast(
            CursorResult[Any],
            await session.execute(
                update(TranscriptionJob)
                .where(
                    col(TranscriptionJob.id) == job_id,
                    or_(
                        col(TranscriptionJob.state) == JobState.QUEUED,
                        (col(TranscriptionJob.state) == JobState.RUNNING)
                        & (col(TranscriptionJob.lease_until) < now),
                    ),
                )
                .values(
                    state=JobState.RUNNING,
                    lease_until=now + lease,
                    attempts=col(TranscriptionJob.attempts) + 1,
                )
            ),
        )
        return int(result.rowcount or 0) == 1

    @staticmethod
    async def renew(session: AsyncSession, job_id: str, lease: timedelta) -> bool:
        """Extend a running job's lease (the heartbeat); False if the job is no longer running."""
        result = cast(
            CursorResult[Any],
            await session.execute(
                update(TranscriptionJob)
                .where(
                    col(TranscriptionJob.id) == job_id,
                    col(TranscriptionJob.state) == JobState.RUNNING,
                )
                .values(lease_until=utcnow() + lease)
            ),
        )
        return int(result.rowcount or 0) == 1

    @staticmethod
    async def finish(
        session: AsyncSession, job: TranscriptionJob, state: JobState, error_type: str | None = None
    ) -> None:
        job.state = state
        job.error_type = error_type
        job.lease_until = None
        job.finished_at = utcnow()
        session.add(job)

    @staticmethod
    async def release(session: AsyncSession, job: TranscriptionJob, error_type: str) -> bool:
        """A transient failure: back to the queue, unless attempts are used up (then False)."""
        if job.attempts >= MAX_ATTEMPTS:
            await JobQueue.finish(session, job, JobState.FAILED, error_type)
            return False
        job.state = JobState.QUEUED
        job.error_type = error_type
        job.lease_until = None
        session.add(job)
        return True

    @staticmethod
    async def pending_for(session: AsyncSession, interview_id: str) -> int:
        rows = await session.execute(
            select(TranscriptionJob.id).where(
                col(TranscriptionJob.interview_id) == interview_id,
                col(TranscriptionJob.state).in_((JobState.QUEUED, JobState.RUNNING)),
            )
        )
        return len(rows.all())
