"""Invites: single-use, expiring, stored only as a keyed hash; guessing is rate-limited.

Creating an invite creates the participant and their interview (with its own data key), so the
label the reviewer knows them by is encrypted from the first moment.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.services.errors import CaseError
from interview.services.scripts import ScriptCatalog
from storage.audit import AuditLog
from storage.crypto import FieldRef
from storage.db import writing
from storage.tables import (
    Case,
    Interview,
    Invite,
    Participant,
    ParticipantStatus,
    RateCounter,
    utcnow,
)
from storage.vault import Vault

INVITE_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # used with fullmatch: no "code\n"
ROLE_PREFIX = {"family": "F", "professional": "P"}
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class CreatedInvite:
    code: str
    case_ref: str
    pseudonym: str
    role: str
    expires_at: datetime
    participant_id: str


@dataclass(frozen=True)
class Redeemed:
    participant_id: str
    interview_id: str
    case_id: str
    role: str


def new_invite_code() -> str:
    """192 bits from ``secrets``: 32 URL-safe characters, a valid /start payload."""
    code = secrets.token_urlsafe(24)
    assert INVITE_CODE.fullmatch(code)  # noqa: S101 - token_urlsafe's alphabet is the payload's
    return code


class InviteService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: Vault,
        audit: AuditLog,
        scripts: ScriptCatalog,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.audit = audit
        self.scripts = scripts

    async def create(
        self,
        case_ref: str,
        role: str,
        *,
        label: str | None = None,
        expires_days: int = 14,
        actor: str = "cli",
    ) -> CreatedInvite:
        if role not in ROLE_PREFIX:
            raise CaseError(f"role must be family or professional, not {role!r}")
        if not 1 <= expires_days <= 365:
            raise CaseError("--expires must be between 1 and 365 days")
        code = new_invite_code()
        async with writing(self.sessions) as session:
            case = (
                (await session.execute(select(Case).where(col(Case.ref) == case_ref)))
                .scalars()
                .first()
            )
            if case is None:
                raise CaseError(f"no case {case_ref!r}")
            if case.status != "open":
                raise CaseError(f"case {case_ref} is {case.status}; no new invites")
            script = await self.scripts.for_case(session, case, role)
            count = (
                await session.execute(
                    select(func.count())
                    .select_from(Participant)
                    .where(col(Participant.case_id) == case.id, col(Participant.role) == role)
                )
            ).scalar_one()
            pseudonym = f"{ROLE_PREFIX[role]}-{int(count) + 1:02d}"
            participant = Participant(case_id=case.id, role=role, pseudonym=pseudonym)
            key = await self.vault.keyring.create(session, "interview")
            if label:
                participant.label_ct = await self.vault.seal_text(
                    session, key.key_id, FieldRef("participants", participant.id, "label"), label
                )
            session.add(participant)
            await session.flush()
            interview = Interview(
                participant_id=participant.id,
                case_id=case.id,
                dek_id=key.key_id,
                script_id=script.id,
                script_hash=script.content_hash,
            )
            expires_at = utcnow() + timedelta(days=expires_days)
            invite = Invite(
                case_id=case.id,
                participant_id=participant.id,
                code_hash=self.vault.invite_hash(code),
                expires_at=expires_at,
            )
            session.add_all([interview, invite])
            await self.audit.append(
                session,
                actor,
                "invite.create",
                {"case": case.id, "participant": participant.id, "invite": invite.id},
            )
        return CreatedInvite(code, case.ref, pseudonym, role, expires_at, participant.id)

    async def redeem(self, session: AsyncSession, code: str, user_hash: str) -> Redeemed | None:
        """Bind an invite to a person, once. Runs in the caller's transaction.

        Returns ``None`` for every refusal (unknown, used, expired, malformed, rate-limited):
        the caller shows one neutral line and still commits, because the only thing stored
        about a refused person is the failure counter that rate-limits guessing. Redeeming
        again by the same person (a re-delivered update) is not a refusal.
        """
        now = utcnow()
        if await self._rate_limited(session, user_hash, now):
            return None
        if not INVITE_CODE.fullmatch(code):
            await self._count_failure(session, user_hash, now)
            return None
        code_hash = self.vault.invite_hash(code)
        result = cast(
            CursorResult[Any],
            await session.execute(
                update(Invite)
                .where(
                    col(Invite.code_hash) == code_hash,
                    col(Invite.redeemed_at).is_(None),
                    col(Invite.expires_at) > now,
                )
                .values(redeemed_at=now, redeemed_by_hash=user_hash)
            ),
        )
        invite = (
            (await session.execute(select(Invite).where(col(Invite.code_hash) == code_hash)))
            .scalars()
            .first()
        )
        if result.rowcount != 1:
            if invite is not None and invite.redeemed_by_hash == user_hash:
                return await self._redeemed(session, invite)
            await self._count_failure(session, user_hash, now)
            return None
        assert invite is not None  # noqa: S101 - the UPDATE just matched it
        participant = await session.get(Participant, invite.participant_id)
        if participant is None or participant.status == ParticipantStatus.DELETED:
            return None
        participant.user_hash = user_hash
        participant.status = ParticipantStatus.ENROLLED
        session.add(participant)
        await self.audit.append(
            session,
            "participant",
            "invite.redeem",
            {"invite": invite.id, "participant": participant.id},
        )
        return await self._redeemed(session, invite)

    @staticmethod
    async def _redeemed(session: AsyncSession, invite: Invite) -> Redeemed | None:
        participant = await session.get(Participant, invite.participant_id)
        interview = (
            (
                await session.execute(
                    select(Interview).where(col(Interview.participant_id) == invite.participant_id)
                )
            )
            .scalars()
            .first()
        )
        if participant is None or interview is None:
            return None
        return Redeemed(participant.id, interview.id, participant.case_id, participant.role)

    async def _rate_limited(self, session: AsyncSession, user_hash: str, now: datetime) -> bool:
        row = await session.get(RateCounter, f"start|{user_hash}")
        return (
            row is not None
            and now - row.window_start < FAILURE_WINDOW
            and row.count >= MAX_FAILURES
        )

    async def _count_failure(self, session: AsyncSession, user_hash: str, now: datetime) -> None:
        """Count a failed attempt: one atomic upsert, so concurrent failures never collide."""
        key = f"start|{user_hash}"
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        table = RateCounter.__table__  # type: ignore[attr-defined]
        window_over = table.c.window_start <= now - FAILURE_WINDOW
        stmt = insert(RateCounter).values(key=key, window_start=now, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((window_over, 1), else_=table.c.count + 1),
                "window_start": case((window_over, now), else_=table.c.window_start),
            },
        )
        await session.execute(stmt)
