"""Cases: create one, list them, show progress (never content)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.script import InterviewScript, load_script
from interview.services.errors import CaseError
from storage.audit import AuditLog
from storage.crypto import FieldRef
from storage.db import reading, writing
from storage.tables import (
    Answer,
    AnswerStatus,
    Case,
    CaseScript,
    Interview,
    InterviewState,
    Participant,
    ReviewerRecipient,
    Statement,
)
from storage.vault import Vault

# The evidence store's object names allow these characters only (no dots: no path tricks).
CASE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ROLES = ("family", "professional")


@dataclass(frozen=True)
class CaseScriptInput:
    role: str
    script: InterviewScript
    source_text: str


@dataclass(frozen=True)
class CaseBlueprint:
    """What a rehearsal copies from a real case: its scripts and settings, never its people."""

    scripts: tuple[CaseScriptInput, ...]
    deadline: date | None
    withdraw_until: date | None
    delete_answers_from_chat: bool
    include_audio: bool


@dataclass(frozen=True)
class ParticipantProgress:
    pseudonym: str
    role: str
    status: str
    interview_state: str
    answers: int
    statement_state: str | None


@dataclass(frozen=True)
class CaseSummary:
    ref: str
    status: str
    deadline: date | None
    withdraw_until: date | None
    recipients: tuple[str, ...]
    participants: tuple[ParticipantProgress, ...]
    scripts: dict[str, str]


def validate_case_ref(ref: str) -> str:
    if not isinstance(ref, str) or not CASE_REF.fullmatch(ref):  # `$` would let "ref\n" in
        raise CaseError(
            f"case reference {ref!r:.80} must be 1-64 characters of letters, digits, '_' or '-'"
        )
    return ref


class CaseService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], vault: Vault, audit: AuditLog
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.audit = audit

    async def create(
        self,
        ref: str,
        recipients: list[str],
        *,
        title: str | None = None,
        deadline: date | None = None,
        withdraw_until: date | None = None,
        scripts: list[CaseScriptInput] | None = None,
        delete_answers_from_chat: bool = False,
        include_audio: bool = False,
        actor: str = "cli",
    ) -> Case:
        validate_case_ref(ref)
        if not recipients:
            raise CaseError("a case needs at least one reviewer recipient (--recipient age1...)")
        async with writing(self.sessions) as session:
            existing = await session.execute(select(col(Case.id)).where(col(Case.ref) == ref))
            if existing.first() is not None:
                raise CaseError(f"case {ref} already exists")
            key = await self.vault.keyring.create(session, "case")
            case = Case(
                ref=ref,
                dek_id=key.key_id,
                deadline=deadline,
                withdraw_until=withdraw_until or deadline,
                delete_answers_from_chat=delete_answers_from_chat,
                include_audio=include_audio,
            )
            if title:
                case.title_ct = await self.vault.seal_text(
                    session, key.key_id, FieldRef("cases", case.id, "title"), title
                )
            session.add(case)
            await session.flush()
            for recipient in dict.fromkeys(recipients):
                session.add(ReviewerRecipient(case_id=case.id, recipient=recipient))
            for item in scripts or []:
                row = CaseScript(
                    case_id=case.id,
                    role=item.role,
                    script_id=item.script.id,
                    content_hash=item.script.content_hash,
                    yaml_ct=b"",
                )
                row.yaml_ct = await self.vault.seal_text(
                    session, key.key_id, FieldRef("case_scripts", row.id, "yaml"), item.source_text
                )
                session.add(row)
            await self.audit.append(
                session, actor, "case.create", {"case": case.id, "recipients": len(set(recipients))}
            )
        return case

    async def get(self, session: AsyncSession, ref: str) -> Case:
        case: Case | None = (
            (await session.execute(select(Case).where(col(Case.ref) == ref))).scalars().first()
        )
        if case is None:
            raise CaseError(f"no case {ref!r}")
        return case

    async def blueprint(self, ref: str) -> CaseBlueprint:
        """A case's own scripts (decrypted YAML) and settings, to rehearse it elsewhere."""
        async with reading(self.sessions) as session:
            case = await self.get(session, ref)
            rows = (
                (
                    await session.execute(
                        select(CaseScript)
                        .where(col(CaseScript.case_id) == case.id)
                        .order_by(col(CaseScript.role))
                    )
                )
                .scalars()
                .all()
            )
            scripts = []
            for row in rows:
                text = await self.vault.open_text(
                    session, case.dek_id, FieldRef("case_scripts", row.id, "yaml"), row.yaml_ct
                )
                scripts.append(CaseScriptInput(row.role, load_script(text), text))
            return CaseBlueprint(
                tuple(scripts),
                case.deadline,
                case.withdraw_until,
                case.delete_answers_from_chat,
                case.include_audio,
            )

    async def list(self) -> list[tuple[Case, int]]:
        async with reading(self.sessions) as session:
            counts = (
                select(col(Participant.case_id), func.count().label("n"))
                .group_by(col(Participant.case_id))
                .subquery()
            )
            rows = await session.execute(
                select(Case, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.case_id == col(Case.id))
                .order_by(col(Case.created_at))
            )
            return [(case, int(n)) for case, n in rows.all()]

    async def summary(self, ref: str) -> CaseSummary:
        async with reading(self.sessions) as session:
            case = await self.get(session, ref)
            recipients = (
                (
                    await session.execute(
                        select(col(ReviewerRecipient.recipient)).where(
                            col(ReviewerRecipient.case_id) == case.id
                        )
                    )
                )
                .scalars()
                .all()
            )
            scripts = {
                row.role: f"{row.script_id}#{row.content_hash[:12]}"
                for row in (
                    await session.execute(
                        select(CaseScript).where(col(CaseScript.case_id) == case.id)
                    )
                ).scalars()
            }
            answer_counts = (
                select(col(Answer.interview_id), func.count().label("n"))
                .where(col(Answer.status) == AnswerStatus.ACTIVE)
                .group_by(col(Answer.interview_id))
                .subquery()
            )
            rows = await session.execute(
                select(
                    Participant,
                    col(Interview.state),
                    func.coalesce(answer_counts.c.n, 0),
                    col(Statement.state),
                )
                .join(Interview, col(Interview.participant_id) == col(Participant.id), isouter=True)
                .join(
                    answer_counts, answer_counts.c.interview_id == col(Interview.id), isouter=True
                )
                .join(Statement, col(Statement.participant_id) == col(Participant.id), isouter=True)
                .where(col(Participant.case_id) == case.id)
                .order_by(col(Participant.pseudonym))
            )
            progress = tuple(
                ParticipantProgress(
                    p.pseudonym,
                    p.role,
                    p.status,
                    state or InterviewState.DELETED,
                    int(n),
                    statement_state,
                )
                for p, state, n, statement_state in rows.all()
            )
            return CaseSummary(
                case.ref,
                case.status,
                case.deadline,
                case.withdraw_until,
                tuple(recipients),
                progress,
                scripts,
            )
