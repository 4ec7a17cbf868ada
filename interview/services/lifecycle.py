"""The big moments of an interview: consent given, statement assembled and submitted,
withdrawal and deletion (crypto-shredding plus row deletion)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.answers import PromptAnswer
from interview.consent import ConsentChoices, ConsentContext, ConsentTexts, consent_texts
from interview.services.answer_store import AnswerStore
from interview.services.context import Ctx
from interview.statement import Statement, StatementMeta, assemble_statement
from storage.audit import AuditLog
from storage.crypto import FieldRef
from storage.erasure import erase_interview
from storage.tables import (
    ConsentRecord,
    InterviewState,
    ParticipantStatus,
    StatementState,
    utcnow,
)
from storage.tables import Statement as StatementRow
from storage.vault import Vault


@dataclass(frozen=True)
class StatementSubmitted:
    """The hand-over point to sealing: the statement is assembled and stored (encrypted)."""

    statement_id: str
    interview_id: str
    case_id: str
    statement: Statement


def texts_for(ctx: Ctx) -> ConsentTexts:
    context = ConsentContext(withdraw_until=ctx.case.withdraw_until)
    return consent_texts(ctx.script.audience, context, purpose=ctx.script.intro)


class Lifecycle:
    def __init__(self, vault: Vault, audit: AuditLog, answers: AnswerStore) -> None:
        self.vault = vault
        self.audit = audit
        self.answers = answers

    async def record_consent(self, session: AsyncSession, ctx: Ctx, stage: str) -> None:
        texts = texts_for(ctx)
        session.add(
            ConsentRecord(
                interview_id=ctx.interview.id,
                stage=stage,
                take_part=ctx.pos.consent.get("take_part", False),
                quote=ctx.pos.consent.get("quote", False),
                anonymised_publication=ctx.pos.consent.get("anonymised_publication", False),
                consent_text_hash=texts.hash,
            )
        )
        await self.audit.append(
            session, "participant", f"consent.{stage}", {"interview": ctx.interview.id}
        )

    async def consent_choices(self, session: AsyncSession, ctx: Ctx) -> ConsentChoices:
        texts = texts_for(ctx)
        record = (
            (
                await session.execute(
                    select(ConsentRecord)
                    .where(col(ConsentRecord.interview_id) == ctx.interview.id)
                    .order_by(col(ConsentRecord.created_at).desc())
                )
            )
            .scalars()
            .first()
        )
        if record is None:
            return ConsentChoices.decide(
                texts, take_part=False, quote=False, anonymised_publication=False, at=utcnow()
            )
        return ConsentChoices(
            take_part=record.take_part,
            quote=record.quote,
            anonymised_publication=record.anonymised_publication,
            consent_ref=texts.ref,
            consent_hash=record.consent_text_hash,
            decided_at=record.created_at,
        )

    async def answers_of(self, session: AsyncSession, ctx: Ctx) -> dict[str, PromptAnswer]:
        chronology = {p.id for p in ctx.script.prompts if p.chronology}
        return await self.answers.load(session, ctx.interview, set(ctx.pos.skipped), chronology)

    async def label_of(self, session: AsyncSession, ctx: Ctx) -> str | None:
        """The reviewer's name for this invite ("Mother"): sealed to the reviewer with the rest."""
        if ctx.participant.label_ct is None or ctx.interview.dek_id is None:
            return None
        return await self.vault.open_text(
            session,
            ctx.interview.dek_id,
            FieldRef("participants", ctx.participant.id, "label"),
            ctx.participant.label_ct,
        )

    async def assemble(self, session: AsyncSession, ctx: Ctx) -> Statement:
        meta = StatementMeta(
            case_id=ctx.case.ref,
            participant_id=ctx.participant.pseudonym,
            interview_id=ctx.interview.id,
            role=ctx.participant.role,
            assembled_at=utcnow(),
            label=await self.label_of(session, ctx),
        )
        return assemble_statement(
            ctx.script,
            await self.answers_of(session, ctx),
            await self.consent_choices(session, ctx),
            meta,
            consent_wording=texts_for(ctx),
        )

    async def submit(self, session: AsyncSession, ctx: Ctx) -> StatementSubmitted:
        await self.record_consent(session, ctx, "submission")
        statement = await self.assemble(session, ctx)
        row = StatementRow(
            interview_id=ctx.interview.id,
            case_id=ctx.case.id,
            participant_id=ctx.participant.id,
            role=ctx.participant.role,
            pseudonym=ctx.participant.pseudonym,
            state=StatementState.SUBMITTED,
        )
        assert ctx.interview.dek_id is not None  # noqa: S101 - live interviews have keys
        row.body_ct = await self.vault.seal_text(
            session,
            ctx.interview.dek_id,
            FieldRef("statements", row.id, "body"),
            statement.to_json(),
        )
        session.add(row)
        ctx.interview.submitted_at = utcnow()
        ctx.pos.awaiting = None
        ctx.save(session, InterviewState.SUBMITTED)
        await self.audit.append(
            session,
            "participant",
            "statement.submit",
            {"interview": ctx.interview.id, "statement": row.id},
        )
        return StatementSubmitted(row.id, ctx.interview.id, ctx.case.id, statement)

    @staticmethod
    async def statements_of(session: AsyncSession, ctx: Ctx) -> list[StatementRow]:
        """The person's statements, locked for this transaction and read afresh.

        A sealing (the sweep, or another bot process) may be updating them at this moment:
        on PostgreSQL both transactions run side by side, and whichever read first without a
        lock would write over the other's outcome (a withdrawal lost, or a sealed statement
        marked withdrawn without a notice to the reviewer). ``SealingService.seal`` takes the
        same row lock before anything else; so must every writer here (SQLite ignores it: its
        writers take turns anyway).
        """
        rows = await session.execute(
            select(StatementRow)
            .where(col(StatementRow.participant_id) == ctx.participant.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list(rows.scalars())

    def withdraw_closed(self, ctx: Ctx, today: date) -> bool:
        return ctx.case.withdraw_until is not None and today > ctx.case.withdraw_until

    async def erase(self, session: AsyncSession, ctx: Ctx, *, reason: str) -> None:
        """Crypto-shred the interview's data key and delete its content rows; a statement not
        yet with the reviewer is withdrawn with it."""
        statements = await erase_interview(
            session, self.vault.keyring, ctx.interview, ctx.participant, reason
        )
        for statement in statements:
            if statement.state != StatementState.SEALED:
                statement.state = StatementState.WITHDRAWN
                statement.withdrawn_at = utcnow()
                session.add(statement)
        ctx.pos = type(ctx.pos)()

    async def withdraw(self, session: AsyncSession, ctx: Ctx) -> None:
        await self.erase(session, ctx, reason="withdrawal")
        ctx.participant.status = ParticipantStatus.WITHDRAWN
        session.add(ctx.participant)
        ctx.save(session, InterviewState.WITHDRAWN)
        await self.audit.append(
            session, "participant", "interview.withdraw", {"interview": ctx.interview.id}
        )

    async def delete_all(self, session: AsyncSession, ctx: Ctx) -> None:
        await self.erase(session, ctx, reason="deletion")
        ctx.participant.status = ParticipantStatus.DELETED
        ctx.participant.user_hash = None
        session.add(ctx.participant)
        ctx.save(session, InterviewState.DELETED)
        await self.audit.append(
            session, "participant", "interview.delete", {"interview": ctx.interview.id}
        )
