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
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import derive_key
from storage.files import atomic_write
from storage.tables import AuditEvent, utcnow

GENESIS = "0" * 64
_PG_LOCK_ID = 0x43564155  # "CVAU": serialises appends on PostgreSQL


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit event {self.seq}: {self.reason}"


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


class AuditHead:
    """The newest event's seq and hash, kept outside the database (the chain alone cannot show
    that its newest events were deleted). Written after each commit; a head that runs ahead of
    the database means events were removed.

    The commit hook runs on the event loop, and a durable write waits for two fsyncs: so
    ``record`` hands the write to one thread of its own (writes stay in commit order), and
    ``read`` first waits for the writes handed over so far.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="casevoice-audit-head")

    def record(self, seq: int, digest: str) -> None:
        """Write the head soon, off the caller's thread (a failure is logged, never raised)."""
        self._writer.submit(self._write_logged, seq, digest)

    def _write_logged(self, seq: int, digest: str) -> None:
        try:
            self.write(seq, digest)
        except OSError:
            logging.getLogger(__name__).warning("could not record the audit head")

    def write(self, seq: int, digest: str) -> None:
        current = self._read_file()
        if current is not None and current[0] >= seq:
            return  # a concurrent writer already recorded a newer head
        atomic_write(self.path, json.dumps({"seq": seq, "hash": digest}).encode())

    def read(self) -> tuple[int, str] | None:
        self._writer.submit(lambda: None).result()  # the heads recorded so far are written
        return self._read_file()

    def _read_file(self) -> tuple[int, str] | None:
        try:
            data = json.loads(self.path.read_text())
            return int(data["seq"]), str(data["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


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
        # read() may wait for a head write (fsync): off the event loop.
        recorded = await asyncio.to_thread(self.head.read) if self.head is not None else None
        if recorded is not None:
            seq, digest = recorded
            if seq > len(events):
                return AuditReport(
                    len(events),
                    AuditProblem(
                        len(events) + 1,
                        f"missing: the log ends at {len(events)} but event {seq} "
                        "was recorded (the newest events were deleted)",
                    ),
                )
            if not hmac.compare_digest(events[seq - 1].hash, digest):
                return AuditReport(
                    len(events),
                    AuditProblem(seq, "is not the event recorded when it was written (replaced)"),
                )
        return AuditReport(len(events), None)

    @staticmethod
    async def count(session: AsyncSession) -> int:
        result = await session.execute(select(func.count()).select_from(AuditEvent))
        return int(result.scalar_one())
