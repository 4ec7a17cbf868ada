"""Answers at rest: every part sealed under the interview's data key, every version kept.

A part is one text message, voice note, choice or chronology event. Editing from the read-back
supersedes the old parts (kept, as earlier versions) rather than deleting them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, case, false, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.answers import AnswerPart, AnswerVersion, ChronologyEvent, PromptAnswer
from interview.when import split_event
from storage.crypto import DataKey, FieldCipher, FieldRef
from storage.tables import Answer, AnswerStatus, AudioBlob, Interview, utcnow
from storage.tables import AnswerVersion as AnswerVersionRow
from storage.tables import Transcript as TranscriptRow
from storage.vault import Vault
from transcription.transcript import marked_text, transcript_from_json

if TYPE_CHECKING:
    from interview.services.context import Ctx


class AnswerStore:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    async def _key(self, session: AsyncSession, interview: Interview) -> DataKey:
        if interview.dek_id is None:
            raise ValueError(f"interview {interview.id} has no data key")
        return await self.vault.keyring.get(session, interview.dek_id)

    async def add_part(
        self,
        session: AsyncSession,
        interview: Interview,
        prompt_id: str,
        kind: str,
        text: str,
        *,
        source_key: str | None,
        version_source: str = "typed",
        author: str = "participant",
        model_id: str | None = None,
        versioned: bool = True,
    ) -> Answer | None:
        """Store one part. ``None`` if this source (an update) was stored already."""
        seen = (
            func.count(case((col(Answer.source_key) == source_key, 1)))
            if source_key is not None
            else func.count(case((false(), 1)))
        )
        total, duplicates = (
            await session.execute(
                select(func.count(), seen)
                .select_from(Answer)
                .where(col(Answer.interview_id) == interview.id)
            )
        ).one()
        if duplicates:
            return None
        key = await self._key(session, interview)
        answer = Answer(
            interview_id=interview.id,
            prompt_id=prompt_id,
            script_hash=interview.script_hash,
            kind=kind,
            seq=int(total),
            source_key=source_key,
        )
        answer.text_ct = FieldCipher.encrypt_text(key, text, FieldRef("answers", answer.id, "text"))
        session.add(answer)
        if versioned:
            self._add_version(session, key, answer, 1, text, version_source, author, model_id)
        return answer

    async def set_text(
        self,
        session: AsyncSession,
        interview: Interview,
        answer: Answer,
        text: str,
        *,
        source: str,
        author: str,
        model_id: str | None = None,
    ) -> None:
        """A new version of a part's text (a transcript arriving, a correction)."""
        key = await self._key(session, interview)
        answer.text_ct = FieldCipher.encrypt_text(key, text, FieldRef("answers", answer.id, "text"))
        answer.updated_at = utcnow()
        session.add(answer)
        await self._version(session, key, answer, text, source, author, model_id)

    async def _version(
        self,
        session: AsyncSession,
        key: DataKey,
        answer: Answer,
        text: str,
        source: str,
        author: str,
        model_id: str | None,
    ) -> None:
        number = (
            await session.execute(
                select(func.count())
                .select_from(AnswerVersionRow)
                .where(col(AnswerVersionRow.answer_id) == answer.id)
            )
        ).scalar_one() + 1
        self._add_version(session, key, answer, int(number), text, source, author, model_id)

    @staticmethod
    def _add_version(
        session: AsyncSession,
        key: DataKey,
        answer: Answer,
        number: int,
        text: str,
        source: str,
        author: str,
        model_id: str | None,
    ) -> None:
        row = AnswerVersionRow(
            answer_id=answer.id,
            version=number,
            source=source,
            author=author,
            text_ct=b"",
            model_id=model_id,
        )
        row.text_ct = FieldCipher.encrypt_text(
            key, text, FieldRef("answer_versions", row.id, "text")
        )
        session.add(row)

    async def revise(
        self, session: AsyncSession, interview: Interview, source_key: str, text: str
    ) -> bool:
        """The person edited a message they had sent: a new version of that part."""
        answer = (
            (
                await session.execute(
                    select(Answer).where(
                        col(Answer.interview_id) == interview.id,
                        col(Answer.source_key) == source_key,
                        col(Answer.status) == AnswerStatus.ACTIVE,
                    )
                )
            )
            .scalars()
            .first()
        )
        if answer is None or answer.kind == "voice":
            return False
        await self.set_text(session, interview, answer, text, source="typed", author="participant")
        return True

    async def prepare_for_part(self, session: AsyncSession, ctx: Ctx, prompt_id: str) -> None:
        """Before a new typed or spoken part: the first part of an edit replaces the old
        answer (kept as superseded), and a skipped prompt counts as answered after all."""
        if ctx.pos.edit_fresh:
            await self.supersede(session, ctx.interview, prompt_id)
            ctx.pos.edit_fresh = False
        if prompt_id in ctx.pos.skipped:
            ctx.pos.skipped.remove(prompt_id)

    async def set_choice(
        self, session: AsyncSession, interview: Interview, prompt_id: str, values: list[str]
    ) -> None:
        """A choice prompt holds one part: the picked values (sealed like any answer)."""
        await self.supersede(session, interview, prompt_id)
        if values:
            await self.add_part(
                session, interview, prompt_id, "choice", json.dumps(values), source_key=None
            )

    async def supersede(self, session: AsyncSession, interview: Interview, prompt_id: str) -> int:
        result = cast(
            CursorResult[Any],
            await session.execute(
                update(Answer)
                .where(
                    col(Answer.interview_id) == interview.id,
                    col(Answer.prompt_id) == prompt_id,
                    col(Answer.status) == AnswerStatus.ACTIVE,
                )
                .values(status=AnswerStatus.SUPERSEDED, updated_at=utcnow())
            ),
        )
        return int(result.rowcount or 0)

    async def parts_count(self, session: AsyncSession, interview: Interview, prompt_id: str) -> int:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(Answer)
                    .where(
                        col(Answer.interview_id) == interview.id,
                        col(Answer.prompt_id) == prompt_id,
                        col(Answer.status) == AnswerStatus.ACTIVE,
                    )
                )
            ).scalar_one()
        )

    async def choices(
        self, session: AsyncSession, interview: Interview, prompt_id: str
    ) -> list[str]:
        row = (
            (
                await session.execute(
                    select(Answer).where(
                        col(Answer.interview_id) == interview.id,
                        col(Answer.prompt_id) == prompt_id,
                        col(Answer.kind) == "choice",
                        col(Answer.status) == AnswerStatus.ACTIVE,
                    )
                )
            )
            .scalars()
            .first()
        )
        if row is None or row.text_ct is None:
            return []
        key = await self._key(session, interview)
        values: list[str] = json.loads(
            FieldCipher.decrypt_text(key, row.text_ct, FieldRef("answers", row.id, "text"))
        )
        return values

    async def load(
        self, session: AsyncSession, interview: Interview, skipped: set[str], chronology: set[str]
    ) -> dict[str, PromptAnswer]:
        """Every prompt's answer as the domain sees it (decrypted, in memory only)."""
        key = await self._key(session, interview)
        rows = (
            (
                await session.execute(
                    select(Answer)
                    .where(
                        col(Answer.interview_id) == interview.id,
                        col(Answer.status) == AnswerStatus.ACTIVE,
                    )
                    .order_by(col(Answer.seq))
                )
            )
            .scalars()
            .all()
        )
        versions = await self._versions(session, key, [r.id for r in rows])
        marked = await self._marked(session, key, [r.id for r in rows if r.kind == "voice"])
        parts: dict[str, list[AnswerPart]] = defaultdict(list)
        choices: dict[str, tuple[str, ...]] = {}
        for row in rows:
            text = FieldCipher.decrypt_text(
                key, row.text_ct or b"", FieldRef("answers", row.id, "text")
            )
            if row.kind == "choice":
                choices[row.prompt_id] = tuple(json.loads(text))
                continue
            if row.kind == "voice" and row.id not in versions:
                continue  # still being transcribed: not part of the statement yet
            history = versions.get(row.id) or (
                AnswerVersion(text=text, source="typed", author="participant", at=row.created_at),
            )
            if row.id in marked:
                history = tuple(_with_marks(v, marked[row.id]) for v in history)
            if history[-1].text != text:
                history = (
                    *history,
                    AnswerVersion(
                        text=text, source="typed", author="participant", at=row.updated_at
                    ),
                )
            parts[row.prompt_id].append(
                AnswerPart(
                    kind="voice" if row.kind == "voice" else "text",
                    text=text,
                    versions=history,
                    received_at=row.created_at,
                )
            )
        answers: dict[str, PromptAnswer] = {}
        for prompt_id in set(parts) | set(choices) | skipped:
            if prompt_id in skipped:
                answers[prompt_id] = PromptAnswer(prompt_id=prompt_id, skipped=True)
            elif prompt_id in chronology:
                events = tuple(
                    ChronologyEvent(when=split_event(p.text)[0] or "date not given", parts=(p,))
                    for p in parts[prompt_id]
                )
                answers[prompt_id] = PromptAnswer(prompt_id=prompt_id, events=events)
            else:
                answers[prompt_id] = PromptAnswer(
                    prompt_id=prompt_id,
                    parts=tuple(parts.get(prompt_id, ())),
                    choices=choices.get(prompt_id, ()),
                )
        return answers

    @staticmethod
    async def _marked(
        session: AsyncSession, key: DataKey, answer_ids: list[str]
    ) -> dict[str, tuple[str, str]]:
        """Per voice answer: (what Whisper heard, the same with uncertain words marked)."""
        if not answer_ids:
            return {}
        rows = (
            await session.execute(
                select(AudioBlob.answer_id, TranscriptRow)
                .join(TranscriptRow, col(TranscriptRow.audio_id) == AudioBlob.id)
                .where(col(AudioBlob.answer_id).in_(answer_ids))
                .order_by(col(TranscriptRow.created_at))
            )
        ).all()
        out: dict[str, tuple[str, str]] = {}
        for answer_id, row in rows:
            body = FieldCipher.decrypt_text(
                key, row.body_ct, FieldRef("transcripts", row.id, "body")
            )
            transcript = transcript_from_json(body)
            out[str(answer_id)] = (transcript.text, marked_text(transcript))
        return out

    async def _versions(
        self, session: AsyncSession, key: DataKey, answer_ids: list[str]
    ) -> dict[str, tuple[AnswerVersion, ...]]:
        if not answer_ids:
            return {}
        rows = (
            (
                await session.execute(
                    select(AnswerVersionRow)
                    .where(col(AnswerVersionRow.answer_id).in_(answer_ids))
                    .order_by(col(AnswerVersionRow.answer_id), col(AnswerVersionRow.version))
                )
            )
            .scalars()
            .all()
        )
        out: dict[str, list[AnswerVersion]] = defaultdict(list)
        for row in rows:
            text = FieldCipher.decrypt_text(
                key, row.text_ct, FieldRef("answer_versions", row.id, "text")
            )
            source = row.source if row.source in ("typed", "transcript", "correction") else "typed"
            author = "transcriber" if row.author == "transcriber" else "participant"
            out[row.answer_id].append(
                AnswerVersion(
                    text=text,
                    source=source,
                    author=author,
                    at=row.created_at,
                    model_id=row.model_id,
                )
            )
        return {k: tuple(v) for k, v in out.items()}


def _with_marks(version: AnswerVersion, heard: tuple[str, str]) -> AnswerVersion:
    """The transcriber's version, with its uncertain words marked as the participant saw them."""
    text, marked = heard
    if version.source != "transcript" or version.text != text or marked == text:
        return version
    return version.model_copy(update={"marked": marked})
