"""Sealing a submitted statement into the reviewer's evidence store, then forgetting it.

The submission (consent + assembled statement, encrypted) commits first; sealing runs after
the commit and is idempotent, so a crash at any point leaves either no sealed statement or one
whole one, and the next attempt (right away, or the recovery sweep at start-up) completes it.
Once sealed, the bot's own readable copy is erased: the interview's data key is shredded and
the content rows deleted. Only non-content metadata (state, hash, receipt code) remains.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.render import render_markdown
from interview.script import InterviewScript
from interview.services.errors import CaseError
from interview.services.scripts import ScriptCatalog
from interview.statement import Statement
from storage.audit import AuditLog
from storage.crypto import FieldRef
from storage.db import reading, writing
from storage.erasure import erase_interview
from storage.evidence import EvidenceWriter, StatementBundle
from storage.tables import (
    Answer,
    AnswerStatus,
    AudioBlob,
    Case,
    Interview,
    Participant,
    ReviewerRecipient,
    StatementState,
    utcnow,
)
from storage.tables import Statement as StatementRow
from storage.vault import Vault

log = logging.getLogger(__name__)
AUDIO_EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/flac": "flac",
}


@dataclass(frozen=True)
class Sealed:
    statement_id: str
    receipt_code: str


class SealingService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: Vault,
        audit: AuditLog,
        writer: EvidenceWriter,
        scripts: ScriptCatalog | None = None,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.audit = audit
        self.writer = writer
        self.scripts = scripts
        self._lock = asyncio.Lock()

    async def _bundle(self, statement_id: str) -> tuple[StatementBundle, list[str]] | None:
        async with reading(self.sessions) as session:
            row = await session.get(StatementRow, statement_id)
            if (
                row is None
                or row.state != StatementState.SUBMITTED
                or row.body_ct is None
                or row.interview_id is None
            ):
                return None
            interview = await session.get(Interview, row.interview_id)
            case = await session.get(Case, row.case_id)
            if interview is None or case is None or interview.dek_id is None:
                return None
            body = await self.vault.open_text(
                session, interview.dek_id, FieldRef("statements", row.id, "body"), row.body_ct
            )
            statement = Statement.from_json(body)
            files = {
                "statement.json": body.encode("utf-8"),
                "statement.md": render_markdown(statement).encode("utf-8"),
            }
            script = await self._script(session, case, row.role, interview.script_hash)
            if script is not None:
                # The whole script in force (every prompt, hint and choice, shown or not), so
                # the reviewer can put exactly what was asked before a court.
                files["script.json"] = script.canonical_json.encode("utf-8")
            if case.include_audio:
                files.update(await self._audio(session, interview))
            recipients = list(
                (
                    await session.execute(
                        select(ReviewerRecipient.recipient).where(
                            col(ReviewerRecipient.case_id) == case.id
                        )
                    )
                ).scalars()
            )
            bundle = StatementBundle(
                statement_id=row.id,
                case_ref=case.ref,
                files=files,
                role=row.role,
                submitted_at=row.submitted_at,
                script_ref=statement.script_ref,
                extra={"participant": row.pseudonym},
            )
            return bundle, recipients

    async def _script(
        self, session: AsyncSession, case: Case, role: str, script_hash: str
    ) -> InterviewScript | None:
        if self.scripts is None:
            return None
        try:
            return await self.scripts.by_hash(session, case, role, script_hash)
        except CaseError:
            # The statement itself names every prompt shown and its hint; seal without the file
            # rather than hold a participant's statement back.
            log.warning("statement for case %s: script %s not found", case.id, script_hash[:12])
            return None

    async def _audio(self, session: AsyncSession, interview: Interview) -> dict[str, bytes]:
        assert interview.dek_id is not None  # noqa: S101
        blobs = (
            (
                await session.execute(
                    select(AudioBlob)
                    .join(Answer, col(Answer.id) == AudioBlob.answer_id)
                    .where(
                        col(AudioBlob.interview_id) == interview.id,
                        col(Answer.status) == AnswerStatus.ACTIVE,
                    )
                    .order_by(col(AudioBlob.created_at))
                )
            )
            .scalars()
            .all()
        )
        files = {}
        for number, blob in enumerate(blobs, start=1):
            data = await self.vault.open(
                session, interview.dek_id, FieldRef("audio_blobs", blob.id, "data"), blob.data_ct
            )
            ext = AUDIO_EXTENSIONS.get(blob.mime_type, "bin")
            files[f"audio/{number:02d}-{blob.answer_id}.{ext}"] = data
        return files

    async def seal(self, statement_id: str) -> Sealed | None:
        """Seal one submitted statement (idempotent). None if there is nothing to seal."""
        async with self._lock:
            prepared = await self._bundle(statement_id)
            if prepared is None:
                return None
            bundle, recipients = prepared
            result = await asyncio.to_thread(self.writer.seal_statement, bundle, recipients)
            del bundle
            async with writing(self.sessions) as session:
                # Locked, and read afresh: on PostgreSQL a withdrawal (or another process
                # sealing the same statement) may be committing right now. Reading without the
                # lock would overwrite its "withdrawn" with "sealed"; the withdrawal takes the
                # same lock first (Lifecycle.statements_of), so the two queue in either order.
                row = await session.get(StatementRow, statement_id, with_for_update=True)
                if row is None:
                    return None
                if row.state == StatementState.SEALED and row.receipt_code is not None:
                    return Sealed(statement_id, row.receipt_code)  # sealed elsewhere meanwhile
                if row.state == StatementState.WITHDRAWN:
                    # Withdrawn while it was being sealed: the reviewer must see that too.
                    await asyncio.to_thread(
                        self.writer.write_withdrawal,
                        result.case_ref,
                        statement_id,
                        "participant-request",
                    )
                    row.object_key = result.object_key
                    row.sealed_sha256 = result.sealed_sha256
                    session.add(row)
                    return None
                row.state = StatementState.SEALED
                row.sealed_at = utcnow()
                row.sealed_sha256 = result.sealed_sha256
                row.receipt_code = result.receipt_code
                row.object_key = result.object_key
                row.body_ct = None
                session.add(row)
                await self.audit.append(
                    session,
                    "bot",
                    "statement.seal",
                    {"statement": row.id, "ledger_seq": result.ledger_seq},
                )
                if row.interview_id is not None:
                    await self._erase(session, row.interview_id)
            log.info("statement %s sealed (ledger entry %d)", statement_id, result.ledger_seq)
            return Sealed(statement_id, result.receipt_code)

    async def _erase(self, session: AsyncSession, interview_id: str) -> None:
        """The bot's readable copy goes: shred the data key, delete the content rows."""
        interview = await session.get(Interview, interview_id)
        case = await session.get(Case, interview.case_id) if interview else None
        if interview is None or case is None or case.retention != "erase-after-sealing":
            return
        participant = await session.get(Participant, interview.participant_id)
        await erase_interview(session, self.vault.keyring, interview, participant, "sealed")

    async def withdraw(self, session: AsyncSession, statement: StatementRow) -> None:
        """A signed withdrawal notice in the store and ledger (in the caller's transaction)."""
        case = await session.get(Case, statement.case_id)
        if case is None:
            return
        await asyncio.to_thread(
            self.writer.write_withdrawal, case.ref, statement.id, "participant-request"
        )
        statement.state = StatementState.WITHDRAWN
        statement.withdrawn_at = utcnow()
        session.add(statement)
        await self.audit.append(
            session, "participant", "statement.withdraw", {"statement": statement.id}
        )

    async def pending(self) -> list[str]:
        async with reading(self.sessions) as session:
            rows = await session.execute(
                select(StatementRow.id).where(col(StatementRow.state) == StatementState.SUBMITTED)
            )
            return [str(r) for r in rows.scalars()]

    async def sweep(self) -> int:
        """Complete every sealing a crash interrupted."""
        done = 0
        for statement_id in await self.pending():
            try:
                if await self.seal(statement_id) is not None:
                    done += 1
            except Exception as exc:  # noqa: BLE001 - retried on the next sweep
                log.error("sealing %s failed: %s", statement_id, type(exc).__name__)
        return done
