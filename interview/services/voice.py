"""Voice answers: store the note (encrypted) with its transcription job, and handle what the
person says about the transcript (that's right / correct it / record again)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.services import phrases as P
from interview.services.answer_store import AnswerStore
from interview.services.context import Ctx
from interview.services.prompts import saved_says
from interview.services.replies import Action, Button, Outcome, Press, Say
from storage.crypto import FieldRef
from storage.jobs import JobQueue, TranscriptionJob
from storage.tables import Answer, AnswerStatus, AudioBlob, InterviewState
from storage.vault import Vault
from transcription.errors import TELEGRAM_DOWNLOAD_LIMIT_BYTES


@dataclass(frozen=True)
class VoiceNote:
    data: bytes
    mime_type: str
    duration: float | None
    chat_id: int
    source_key: str


def heard_buttons(answer_id: str) -> tuple[tuple[Button, ...], ...]:
    return (
        (Button(P.BUTTON_HEARD_OK, Press(Action.HEARD_RIGHT, answer=answer_id)),),
        (Button(P.BUTTON_HEARD_FIX, Press(Action.HEARD_FIX, answer=answer_id)),),
        (Button(P.BUTTON_HEARD_AGAIN, Press(Action.HEARD_AGAIN, answer=answer_id)),),
    )


def failed_buttons(answer_id: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(P.BUTTON_HEARD_AGAIN, Press(Action.HEARD_AGAIN, answer=answer_id)),),)


def spoken_duration(seconds: float) -> str:
    """'10 minutes', '1 minute', '90 seconds': how a person would say the limit."""
    whole = int(seconds)
    if whole >= 60 and whole % 60 == 0:
        minutes = whole // 60
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    if whole > 120:
        return f"about {round(whole / 60)} minutes"
    return f"{whole} second" + ("s" if whole != 1 else "")


def too_big(size: int | None, duration: float | None, max_seconds: float) -> str | None:
    """A kind refusal before downloading, or None."""
    if size is not None and size > TELEGRAM_DOWNLOAD_LIMIT_BYTES:
        return P.VOICE_TOO_LARGE
    if duration is not None and duration > max_seconds:
        return P.VOICE_TOO_LONG.format(limit=spoken_duration(max_seconds))
    return None


class VoiceService:
    def __init__(self, vault: Vault, answers: AnswerStore) -> None:
        self.vault = vault
        self.answers = answers

    async def accept(self, session: AsyncSession, ctx: Ctx, note: VoiceNote) -> Outcome:
        """Audio, answer part and job in one transaction: a stored note always gets transcribed."""
        cursor = ctx.pos.cursor
        if cursor is None or cursor.prompt_id is None:
            return Outcome().say(P.READBACK_USE_BUTTONS)
        prompt = ctx.script.prompt(cursor.prompt_id)
        if prompt.kind == "choice" or not prompt.allow_voice:
            return Outcome().say(P.VOICE_NOT_HERE)
        await self.answers.prepare_for_part(session, ctx, prompt.id)
        answer = await self.answers.add_part(
            session,
            ctx.interview,
            prompt.id,
            "voice",
            "",
            source_key=note.source_key,
            versioned=False,
        )
        if answer is None:
            return Outcome().say(P.VOICE_RECEIVED)  # a re-delivered update: already queued
        assert ctx.interview.dek_id is not None  # noqa: S101
        blob = AudioBlob(
            interview_id=ctx.interview.id,
            answer_id=answer.id,
            mime_type=note.mime_type[:64],
            duration_s=note.duration,
            size=len(note.data),
            data_ct=b"",
        )
        blob.data_ct = await self.vault.seal(
            session, ctx.interview.dek_id, FieldRef("audio_blobs", blob.id, "data"), note.data
        )
        session.add(blob)
        await session.flush()
        job = TranscriptionJob(
            audio_id=blob.id,
            answer_id=answer.id,
            interview_id=ctx.interview.id,
            duration_s=note.duration,
            language=ctx.script.language.split("-")[0],
        )
        job.chat_ct = await self.vault.seal(
            session,
            ctx.interview.dek_id,
            FieldRef("transcription_jobs", job.id, "chat"),
            str(note.chat_id).encode(),
        )
        session.add(job)
        ctx.save(session, InterviewState.INTERVIEW)
        return Outcome(delete_incoming=ctx.case.delete_answers_from_chat).say(P.VOICE_RECEIVED)

    async def _answer(self, session: AsyncSession, ctx: Ctx, answer_id: str) -> Answer | None:
        answer = await session.get(Answer, answer_id)
        if (
            answer is None
            or answer.interview_id != ctx.interview.id
            or answer.status != AnswerStatus.ACTIVE
            or answer.kind != "voice"
        ):
            return None
        return answer

    async def press(self, session: AsyncSession, ctx: Ctx, press: Press) -> Outcome:
        """A button under a transcript: that's right / correct it / record again."""
        action = press.action
        answer = await self._answer(session, ctx, press.answer or "")
        if answer is None and action != Action.HEARD_AGAIN:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        prompt = ctx.script.prompt(answer.prompt_id) if answer else None
        if action == Action.HEARD_RIGHT and prompt is not None:
            out = Outcome()
            out.says.extend(saved_says(prompt))
            return out
        if action == Action.HEARD_FIX and answer is not None:
            ctx.pos.awaiting = f"correct:{answer.id}"
            ctx.save(session)
            return Outcome().say(P.CORRECT_HOW)
        # Record again: this part no longer counts; its audio stays (encrypted) until erased.
        if answer is not None:
            await session.execute(
                update(Answer)
                .where(col(Answer.id) == answer.id)
                .values(status=AnswerStatus.SUPERSEDED)
            )
        return Outcome().say(P.RECORD_AGAIN)

    async def correct(self, session: AsyncSession, ctx: Ctx, text: str) -> Outcome:
        """The typed correction of a transcript: a new version, by the participant."""
        answer_id = (ctx.pos.awaiting or "").removeprefix("correct:")
        ctx.pos.awaiting = None
        ctx.save(session)
        answer = await self._answer(session, ctx, answer_id)
        if answer is None:
            return Outcome().say(P.KEPT)
        await self.answers.set_text(
            session, ctx.interview, answer, text, source="correction", author="participant"
        )
        out = Outcome().say(P.CORRECTED)
        out.says.extend(saved_says(ctx.script.prompt(answer.prompt_id)))
        return out

    @staticmethod
    async def pending(session: AsyncSession, ctx: Ctx) -> bool:
        return await JobQueue.pending_for(session, ctx.interview.id) > 0


def heard_say(answer_id: str, text: str) -> Say:
    return Say(P.HEARD.format(text=text)[:4000], heard_buttons(answer_id))
