"""Erasing an interview's readable content: one way, for withdrawal, deletion and sealing.

Crypto-shredding first (the interview's data key is destroyed, so every ciphertext under it, in
this database, its WAL, its backups, is unreadable for good), then the content rows go
(audio, answers and, by cascade, their versions, transcripts and jobs) and so do the pointers
that could still name content: the statement bodies, the interview's position and the
participant's label. What remains is metadata: states, dates, hashes, receipt codes.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.keyring import Keyring
from storage.tables import Answer, AudioBlob, Interview, Participant, Statement


async def erase_interview(
    session: AsyncSession,
    keyring: Keyring,
    interview: Interview,
    participant: Participant | None,
    reason: str,
) -> list[Statement]:
    """Erase in the caller's transaction; returns the interview's statements (now bodiless)."""
    # The statements first, locked and read afresh: the lock order a concurrent sealing uses
    # too, so the two never deadlock and neither writes over the other's outcome.
    query = (
        select(Statement)
        .where(col(Statement.interview_id) == interview.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    statements = list((await session.execute(query)).scalars().all())
    if interview.dek_id is not None:
        await keyring.shred(session, [interview.dek_id], reason)
    await session.execute(delete(AudioBlob).where(col(AudioBlob.interview_id) == interview.id))
    await session.execute(delete(Answer).where(col(Answer.interview_id) == interview.id))
    for statement in statements:
        statement.body_ct = None
        session.add(statement)
    interview.dek_id = None
    interview.position = None
    session.add(interview)
    if participant is not None:
        participant.label_ct = None
        session.add(participant)
    return statements
