"""A hash-chained audit log of every state change: ids and actions, never content.

Each event's hash is an HMAC over the previous hash and the event's canonical JSON, keyed by a
key derived from the key provider's HMAC key. Editing, deleting or reordering an event breaks
the chain at a point ``verify`` names; someone with only the database cannot re-forge it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit_head import AuditHead
from storage.crypto import derive_key
from storage.errors import AuditHeadError
from storage.tables import AuditEvent, utcnow

__all__ = ["GENESIS", "AuditHead", "AuditLog", "AuditProblem", "AuditReport"]

GENESIS = "0" * 64
_PG_LOCK_ID = 0x43564155  # "CVAU": serialises appends on PostgreSQL


@dataclass(frozen=True)
class AuditProblem:
    seq: int | None  # None: the head itself
    reason: str

    def __str__(self) -> str:
        return (
            f"audit head: {self.reason}"
            if self.seq is None
            else f"audit event {self.seq}: {self.reason}"
        )


@dataclass(frozen=True)
class AuditReport:
    events: int
    problem: AuditProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _canonical(seq: int, at: datetime, actor: str, action: str, subject: str) -> bytes:
    body = {"seq": seq, "at": at.isoformat(), "actor": actor, "action": action, "subject": subject}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


class AuditLog:
    def __init__(self, hmac_key: bytes, head: AuditHead | None = None) -> None:
        self._key = derive_key(hmac_key, "audit-chain")
        self.head = head

    def _hash(
        self, prev_hash: str, seq: int, at: datetime, actor: str, action: str, subject: str
    ) -> str:
        message = prev_hash.encode() + b"|" + _canonical(seq, at, actor, action, subject)
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def append(
        self,
        session: AsyncSession,
        actor: str,
        action: str,
        subject: Mapping[str, str | int | None],
    ) -> AuditEvent:
        """Add an event in the caller's transaction. ``subject`` holds ids, never content."""
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        last = (
            (
                await session.execute(
                    select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)
                )
            )
            .scalars()
            .first()
        )
        seq = 1 if last is None else last.seq + 1
        prev = GENESIS if last is None else last.hash
        at = utcnow()
        subject_json = json.dumps(dict(subject), sort_keys=True, separators=(",", ":"))
        event = AuditEvent(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject_json,
            prev_hash=prev,
            hash=self._hash(prev, seq, at, actor, action, subject_json),
        )
        session.add(event)
        await session.flush()
        if self.head is not None:
            head = self.head
            event_seq, event_hash = event.seq, event.hash

            def record(_session: object) -> None:
                # After the commit: the event stands whatever happens to the head, which is
                # written off the event loop (two fsyncs) and in commit order.
                head.record(event_seq, event_hash)

            sa_event.listen(session.sync_session, "after_commit", record, once=True)
        return event

    async def verify(self, session: AsyncSession) -> AuditReport:
        """Walk the chain; name the first broken link."""
        events = (
            (await session.execute(select(AuditEvent).order_by(col(AuditEvent.seq))))
            .scalars()
            .all()
        )
        prev = GENESIS
        expected_seq = 1
        for event in events:
            if event.seq != expected_seq:
                return AuditReport(
                    len(events),
                    AuditProblem(expected_seq, f"missing (the chain jumps to {event.seq})"),
                )
            if event.prev_hash != prev:
                return AuditReport(
                    len(events),
                    AuditProblem(
                        event.seq, "does not follow the event before it (deleted or reordered)"
                    ),
                )
            want = self._hash(prev, event.seq, event.at, event.actor, event.action, event.subject)
            if not hmac.compare_digest(want, event.hash):
                return AuditReport(
                    len(events), AuditProblem(event.seq, "was altered after it was written")
                )
            prev = event.hash
            expected_seq += 1
        # read() waits for head writes already handed over (fsync): off the event loop.
        return AuditReport(
            len(events), await asyncio.to_thread(self._check_head, [e.hash for e in events])
        )

    def _check_head(self, hashes: list[str]) -> AuditProblem | None:
        """The outside anchor: required once events exist, signed, not ahead of the log."""
        if self.head is None:
            return None
        try:
            recorded = self.head.read()
        except AuditHeadError as exc:
            return AuditProblem(None, f"{exc} (replaced or forged)")
        if recorded is None:
            if not hashes:
                return None
            return AuditProblem(
                None,
                f"{self.head.path} is missing while the log holds {len(hashes)} events: the "
                "newest events may have been deleted with it (if this host never kept a head, "
                "`casevoice audit anchor` starts one)",
            )
        if recorded.seq > len(hashes):
            return AuditProblem(
                len(hashes) + 1,
                f"missing: the log ends at {len(hashes)} but event {recorded.seq} "
                "was recorded (the newest events were deleted)",
            )
        if recorded.seq and not hmac.compare_digest(hashes[recorded.seq - 1], recorded.hash):
            return AuditProblem(
                recorded.seq, "is not the event recorded when it was written (replaced)"
            )
        return None

    @staticmethod
    async def newest(session: AsyncSession) -> tuple[int, str]:
        """The newest event's seq and hash ((0, GENESIS) for an empty log)."""
        last = (
            (
                await session.execute(
                    select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)
                )
            )
            .scalars()
            .first()
        )
        return (0, GENESIS) if last is None else (last.seq, last.hash)

    @staticmethod
    async def count(session: AsyncSession) -> int:
        result = await session.execute(select(func.count()).select_from(AuditEvent))
        return int(result.scalar_one())
