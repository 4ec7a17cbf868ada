"""The participant's conversation: enrolment, consent, the interview, read-back, submission.

Handlers call one method per incoming event with the update's session (the caller commits)
and send the returned ``Outcome`` after the commit. The interview row holds a pointer
(``Position``: ids and flags); answers are sealed in the answer store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import cast

from sqlmodel.ext.asyncio.session import AsyncSession

from interview.answers import progress_of
from interview.consent import ConsentKey
from interview.consent_texts import BUTTON_CONTINUE, BUTTON_NOT_NOW, BUTTON_TELL_ME_MORE
from interview.engine import Cursor, InterviewEngine, Progress, Step
from interview.errors import InterviewError
from interview.services import phrases as P
from interview.services.answer_store import AnswerStore
from interview.services.context import Ctx, load_ctx
from interview.services.invites import InviteService
from interview.services.lifecycle import Lifecycle, StatementSubmitted, texts_for
from interview.services.prompts import (
    number_buttons,
    readback_says,
    resume_button,
    saved_says,
    step_says,
)
from interview.services.replies import Button, Outcome
from interview.services.scripts import ScriptCatalog
from interview.services.sealing import SealingService
from interview.services.voice import VoiceNote, VoiceService
from storage.audit import AuditLog
from storage.tables import utcnow
from storage.vault import Vault

CONSENT_ORDER: tuple[ConsentKey, ...] = ("take_part", "quote", "anonymised_publication")
DESCRIBED = {"family": "as a family member", "professional": "by your role"}
SubmittedHook = Callable[[AsyncSession, StatementSubmitted], Awaitable[None]]


class ConversationService:
    def __init__(self, vault: Vault, audit: AuditLog, scripts: ScriptCatalog,
                 invites: InviteService, *, on_submitted: SubmittedHook | None = None,
                 sealing: SealingService | None = None) -> None:
        self.vault = vault
        self.audit = audit
        self.scripts = scripts
        self.invites = invites
        self.answers = AnswerStore(vault)
        self.life = Lifecycle(vault, audit, self.answers)
        self.voices = VoiceService(vault, self.answers)
        self.on_submitted = on_submitted
        self.sealing = sealing
        self.transcription_wakeup: asyncio.Event | None = None

    async def wake_transcription(self, _bot: object = None) -> None:
        """After a voice note is committed: let the transcription loop look now, not later."""
        if self.transcription_wakeup is not None:
            self.transcription_wakeup.set()

    # -- entry points -------------------------------------------------------------------

    async def start(self, session: AsyncSession, user_hash: str, payload: str) -> Outcome:
        if payload:
            redeemed = await self.invites.redeem(session, payload, user_hash)
            if redeemed is None:
                return Outcome().say(P.STRANGER)
            ctx = await load_ctx(session, self.scripts, user_hash, redeemed.participant_id)
            if ctx is not None and ctx.state == "invited":
                ctx.pos.consent_step = "intro"
                ctx.save(session, "intro")
                return self._intro(ctx)
        else:
            ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None:
            return Outcome().say(P.STRANGER)
        return await self.resume(session, ctx)

    async def command(self, session: AsyncSession, user_hash: str, name: str) -> Outcome:
        ctx = await load_ctx(session, self.scripts, user_hash)
        if name == "clear":
            out = Outcome(clear_chat=True)
            return out.say(P.CLEARED)
        if name == "receipt":
            return await self.receipts(session, user_hash)
        if ctx is None or ctx.state in P.FINISHED_STATES:
            if name == "help":
                return Outcome().say(P.HELP.format(support=texts_for_default_support()))
            return Outcome().say(P.NOTHING_HELD if ctx is not None else P.STRANGER)
        if name == "help":
            return Outcome().say(P.HELP.format(support=self._support(ctx)))
        if name in ("resume", "start"):
            return await self.resume(session, ctx)
        if name == "pause":
            return self._pause(session, ctx)
        if name == "withdraw":
            return self._confirm(session, ctx, "withdraw")
        if name == "delete":
            return self._confirm(session, ctx, "delete")
        return Outcome().say(P.HELP.format(support=self._support(ctx)))

    async def text(self, session: AsyncSession, user_hash: str, text: str,
                   source_key: str) -> Outcome:
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None or ctx.state in P.FINISHED_STATES:
            return Outcome().say(P.STRANGER if ctx is None else P.NOTHING_HELD)
        if ctx.state in ("intro", "consent", "declined"):
            return self._consent_step(ctx, remind=True)
        if ctx.state == "submitted":
            return Outcome().say(P.ALREADY_SUBMITTED)
        if ctx.state == "readback":
            return await self._readback_text(session, ctx, text)
        if ctx.state == "paused":
            ctx.save(session, "interview")
        if (ctx.pos.awaiting or "").startswith("correct:"):
            return await self.voices.correct(session, ctx, text)
        return await self._answer(session, ctx, text, source_key)

    async def voice(self, session: AsyncSession, user_hash: str, note: VoiceNote) -> Outcome:
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None or ctx.state in P.FINISHED_STATES:
            return Outcome().say(P.STRANGER if ctx is None else P.NOTHING_HELD)
        if ctx.state in ("intro", "consent", "declined"):
            return self._consent_step(ctx, remind=True)
        if ctx.state == "submitted":
            return Outcome().say(P.ALREADY_SUBMITTED)
        if ctx.state == "readback":
            return Outcome().say(P.READBACK_USE_BUTTONS)
        ctx.pos.awaiting = None
        return await self.voices.accept(session, ctx, note)

    async def edited(self, session: AsyncSession, user_hash: str, text: str,
                     source_key: str) -> Outcome:
        """The person edited a message they sent as an answer: keep both versions."""
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None or ctx.state not in ("interview", "paused", "readback"):
            return Outcome(clear_pressed=False)
        updated = await self.answers.revise(session, ctx.interview, source_key, text)
        return Outcome(clear_pressed=False) if not updated else Outcome().say(P.SAVED_CHOICE)

    async def press(self, session: AsyncSession, user_hash: str, data: str) -> Outcome:
        action, arg = Button.parse(data)
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None or ctx.state in P.FINISHED_STATES:
            return Outcome(toast=P.NOTHING_HELD if ctx else None).say(
                P.STRANGER if ctx is None else P.NOTHING_HELD)
        try:
            return await self._press(session, ctx, action, arg)
        except InterviewError as exc:
            return Outcome(toast=exc.user_message[:200], clear_pressed=False)

    # -- consent --------------------------------------------------------------------------

    def _intro(self, ctx: Ctx, *, more: bool = False) -> Outcome:
        texts = texts_for(ctx)
        pages = texts.tell_me_more if more else texts.intro
        out = Outcome()
        for page in pages[:-1]:
            out.say(page)
        buttons = [Button(BUTTON_CONTINUE, "ok")]
        if not more:
            buttons.append(Button(BUTTON_TELL_ME_MORE, "more"))
        out.say(pages[-1], tuple(buttons), (Button(BUTTON_NOT_NOW, "notnow"),))
        return out

    def _consent_step(self, ctx: Ctx, *, remind: bool = False) -> Outcome:
        step = ctx.pos.consent_step or "intro"
        if step == "intro" or ctx.state == "declined":
            return self._intro(ctx)
        question = texts_for(ctx).question(cast(ConsentKey, step))
        return Outcome().say(
            question.text,
            (Button(question.yes_label, "cy", step),),
            (Button(question.no_label, "cn", step),),
            (Button(BUTTON_TELL_ME_MORE, "cm", step),),
        )

    async def _consent_press(self, session: AsyncSession, ctx: Ctx, action: str,
                             arg: str) -> Outcome:
        texts = texts_for(ctx)
        if action == "more":
            return self._intro(ctx, more=True)
        if action == "notnow":
            return Outcome().say(texts.not_now)
        if action == "ok":
            ctx.pos.consent_step = "take_part"
            ctx.save(session, "consent")
            return self._consent_step(ctx)
        if arg != ctx.pos.consent_step:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        question = texts.question(cast(ConsentKey, arg))
        if action == "cm":
            return Outcome(clear_pressed=False).say(question.more)
        agreed = action == "cy"
        if question.required and not agreed:
            ctx.pos.consent_step = "intro"
            ctx.save(session, "declined")
            await self.audit.append(session, "participant", "consent.declined",
                                    {"interview": ctx.interview.id})
            return Outcome().say(texts.declined)
        ctx.pos.consent[arg] = agreed
        following = CONSENT_ORDER.index(arg) + 1
        if following < len(CONSENT_ORDER):
            ctx.pos.consent_step = CONSENT_ORDER[following]
            ctx.save(session, "consent")
            return self._consent_step(ctx)
        ctx.pos.consent_step = None
        ctx.interview.started_at = ctx.interview.started_at or utcnow()
        ctx.save(session, "interview")
        await self.life.record_consent(session, ctx, "enrolment")
        return await self._show(session, ctx, self._engine(ctx).resume(
            await self._progress(session, ctx), None))

    # -- the interview ----------------------------------------------------------------------

    def _engine(self, ctx: Ctx) -> InterviewEngine:
        return InterviewEngine(ctx.script)

    async def _progress(self, session: AsyncSession, ctx: Ctx) -> Progress:
        return progress_of(await self.life.answers_of(session, ctx))

    async def _show(self, session: AsyncSession, ctx: Ctx, step: Step,
                    out: Outcome | None = None) -> Outcome:
        out = out or Outcome()
        ctx.pos.cursor = step.cursor
        if step.finished:
            ctx.pos.editing = False
            ctx.save(session, "readback")
            statement = await self.life.assemble(session, ctx)
            for say in readback_says(statement, DESCRIBED[ctx.participant.role]):
                out.says.append(say)
            return out
        assert step.prompt is not None  # noqa: S101
        ctx.save(session, "interview" if ctx.state != "paused" else "paused")
        parts = await self.answers.parts_count(session, ctx.interview, step.prompt.id)
        picked = await self.answers.choices(session, ctx.interview, step.prompt.id)
        current = None
        if ctx.pos.editing:
            answers = await self.life.answers_of(session, ctx)
            answer = answers.get(step.prompt.id)
            if answer is not None and answer.answered:
                current = "\n\n".join([p.text for p in answer.parts]
                                      + [p.text for e in answer.events for p in e.parts]
                                      + [step.prompt.label_of(v) for v in answer.choices])
        out.says.extend(step_says(step, has_parts=parts > 0 and step.prompt.kind != "choice",
                                  picked=picked, editing=ctx.pos.editing,
                                  current_answer=current))
        return out

    async def _answer(self, session: AsyncSession, ctx: Ctx, text: str,
                      source_key: str) -> Outcome:
        cursor = ctx.pos.cursor
        if cursor is None or cursor.prompt_id is None:
            return await self.resume(session, ctx)
        prompt = ctx.script.prompt(cursor.prompt_id)
        if prompt.kind == "choice":
            return Outcome().say(P.USE_BUTTONS_CHOICE)
        if ctx.pos.edit_fresh:
            await self.answers.supersede(session, ctx.interview, prompt.id)
            ctx.pos.edit_fresh = False
        if prompt.id in ctx.pos.skipped:
            ctx.pos.skipped.remove(prompt.id)
        kind = "event" if prompt.chronology else "text"
        stored = await self.answers.add_part(session, ctx.interview, prompt.id, kind, text,
                                             source_key=source_key)
        ctx.save(session)
        out = Outcome(delete_incoming=ctx.case.delete_answers_from_chat and stored is not None)
        out.says.extend(saved_says(prompt))
        return out

    async def _press(self, session: AsyncSession, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "resume":
            return await self.resume(session, ctx)
        if action in ("wdy", "wdn", "dly", "dln"):
            return await self._confirmed(session, ctx, action)
        if action in ("vok", "vfix", "vre") and ctx.state in ("interview", "paused", "readback"):
            return await self.voices.press(session, ctx, action, arg)
        if ctx.state in ("intro", "consent", "declined"):
            return await self._consent_press(session, ctx, action, arg)
        if ctx.state == "submitted":
            return Outcome(toast=P.ALREADY_SUBMITTED[:200]).say(P.ALREADY_SUBMITTED)
        if ctx.state == "readback":
            return await self._readback_press(session, ctx, action, arg)
        return await self._prompt_press(session, ctx, action, arg)

    async def _prompt_press(self, session: AsyncSession, ctx: Ctx, action: str,
                            arg: str) -> Outcome:
        cursor = ctx.pos.cursor or Cursor(prompt_id=None)
        prompt_id, _, value = arg.partition(":")
        if cursor.prompt_id is None or prompt_id != cursor.prompt_id:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        if ctx.state == "paused":
            ctx.save(session, "interview")
        engine = self._engine(ctx)
        prompt = ctx.script.prompt(prompt_id)
        progress = await self._progress(session, ctx)
        if action == "help":
            return Outcome(clear_pressed=False).say(prompt.help or P.HELP)
        if action == "pause":
            return self._pause(session, ctx)
        if action == "back":
            return await self._show(session, ctx, engine.back(progress, cursor))
        if action == "keep":
            ctx.pos.edit_fresh = False
            return await self._show(session, ctx, engine.next(progress, cursor))
        if action == "skip":
            step = engine.skip(progress, cursor)
            await self.answers.supersede(session, ctx.interview, prompt_id)
            ctx.pos.skipped = sorted({*ctx.pos.skipped, prompt_id})
            return await self._show(session, ctx, step)
        if action == "skipsec":
            skipped = engine.skip_section(progress, cursor)
            for pid in skipped.skipped:
                await self.answers.supersede(session, ctx.interview, pid)
            ctx.pos.skipped = sorted({*ctx.pos.skipped, *skipped.skipped})
            return await self._show(session, ctx, skipped.step)
        if action == "ch":
            return await self._choose(session, ctx, prompt_id, value, cursor)
        if action == "done":
            if prompt.kind != "choice" and await self.answers.parts_count(
                    session, ctx.interview, prompt_id) == 0:
                return Outcome(clear_pressed=False).say(P.DONE_EMPTY)
            ctx.pos.edit_fresh = False
            return await self._show(session, ctx, engine.next(
                await self._progress(session, ctx), cursor))
        return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)

    async def _choose(self, session: AsyncSession, ctx: Ctx, prompt_id: str, value: str,
                      cursor: Cursor) -> Outcome:
        prompt = ctx.script.prompt(prompt_id)
        if value not in {c.value for c in prompt.choices}:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        if prompt_id in ctx.pos.skipped:
            ctx.pos.skipped.remove(prompt_id)
        if prompt.multiple:
            picked = await self.answers.choices(session, ctx.interview, prompt_id)
            picked = [v for v in picked if v != value] if value in picked else [*picked, value]
            order = [c.value for c in prompt.choices]
            await self.answers.set_choice(session, ctx.interview, prompt_id,
                                          sorted(picked, key=order.index))
            ctx.save(session)
            step = self._engine(ctx).jump_to(await self._progress(session, ctx),
                                             cursor, prompt_id)
            out = Outcome(clear_pressed=False)
            says = step_says(step.__class__(step.cursor, step.prompt, step.section, step.number,
                                            step.total, None),
                             picked=await self.answers.choices(session, ctx.interview,
                                                               prompt_id),
                             editing=ctx.pos.editing)
            out.edit_pressed = says[-1]
            return out
        await self.answers.set_choice(session, ctx.interview, prompt_id, [value])
        ctx.pos.edit_fresh = False
        return await self._show(session, ctx, self._engine(ctx).next(
            await self._progress(session, ctx), cursor))

    # -- read-back ---------------------------------------------------------------------------

    async def _readback_text(self, session: AsyncSession, ctx: Ctx, text: str) -> Outcome:
        if text.strip().isdigit():
            return await self._edit(session, ctx, int(text.strip()))
        return Outcome().say(P.READBACK_USE_BUTTONS)

    async def _readback_press(self, session: AsyncSession, ctx: Ctx, action: str,
                              arg: str) -> Outcome:
        if action == "send":
            if await self.voices.pending(session, ctx):
                return Outcome(toast=P.STILL_TRANSCRIBING[:200], clear_pressed=False)
            submitted = await self.life.submit(session, ctx)
            if self.on_submitted is not None:
                await self.on_submitted(session, submitted)
            return Outcome(seal_statement=submitted.statement_id).say(P.SUBMITTED)
        if action == "edit":
            total = len(self._engine(ctx).visible(await self._progress(session, ctx)))
            return Outcome().say(P.EDIT_PICK, *number_buttons(total))
        if action == "ed" and arg.isdigit():
            return await self._edit(session, ctx, int(arg))
        if action == "rb":
            return await self.resume(session, ctx)
        if action == "later":
            return Outcome().say(P.NOT_YET, *resume_button())
        if action == "wd":
            return self._confirm(session, ctx, "withdraw")
        return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)

    async def _edit(self, session: AsyncSession, ctx: Ctx, number: int) -> Outcome:
        engine = self._engine(ctx)
        progress = await self._progress(session, ctx)
        total = len(engine.visible(progress))
        if not 1 <= number <= total:
            return Outcome().say(P.EDIT_BAD_NUMBER.format(total=total))
        cursor = ctx.pos.cursor or Cursor(prompt_id=None)
        step = engine.jump_to_number(progress, cursor, number)
        ctx.pos.editing = True
        ctx.pos.edit_fresh = True
        ctx.save(session, "interview")
        return await self._show(session, ctx, step)

    # -- pause, resume, withdraw, delete ------------------------------------------------------

    async def resume(self, session: AsyncSession, ctx: Ctx) -> Outcome:
        if ctx.state in ("intro", "consent", "declined"):
            return self._consent_step(ctx)
        if ctx.state == "submitted":
            return Outcome().say(P.ALREADY_SUBMITTED)
        if ctx.state in P.FINISHED_STATES:
            return Outcome().say(P.NOTHING_HELD)
        ctx.pos.awaiting = None
        progress = await self._progress(session, ctx)
        step = self._engine(ctx).resume(progress, ctx.pos.cursor)
        if ctx.state == "paused":
            ctx.save(session, "interview")
        return await self._show(session, ctx, step, Outcome().say(P.WELCOME_BACK))

    def _pause(self, session: AsyncSession, ctx: Ctx) -> Outcome:
        if ctx.state in ("interview", "readback"):
            ctx.save(session, "paused")
        return Outcome().say(P.PAUSED, *resume_button())

    def _confirm(self, session: AsyncSession, ctx: Ctx, what: str) -> Outcome:
        if what == "withdraw" and self.life.withdraw_closed(ctx, date.today()):  # noqa: DTZ011
            assert ctx.case.withdraw_until is not None  # noqa: S101
            return Outcome().say(P.WITHDRAW_CLOSED.format(
                date=ctx.case.withdraw_until.isoformat()))
        ctx.pos.awaiting = what
        ctx.save(session)
        if what == "withdraw":
            return Outcome().say(P.CONFIRM_WITHDRAW, (Button(P.BUTTON_WITHDRAW_YES, "wdy"),),
                                 (Button(P.BUTTON_NO_KEEP, "wdn"),))
        return Outcome().say(P.CONFIRM_DELETE, (Button(P.BUTTON_DELETE_YES, "dly"),),
                             (Button(P.BUTTON_NO_KEEP, "dln"),))

    async def _confirmed(self, session: AsyncSession, ctx: Ctx, action: str) -> Outcome:
        wanted = {"wdy": "withdraw", "wdn": "withdraw", "dly": "delete", "dln": "delete"}[action]
        if ctx.pos.awaiting != wanted:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        ctx.pos.awaiting = None
        if action in ("wdn", "dln"):
            ctx.save(session)
            return Outcome().say(P.KEPT, *resume_button())
        if action == "wdy":
            if self.life.withdraw_closed(ctx, date.today()):  # noqa: DTZ011
                return Outcome().say(P.WITHDRAW_CLOSED.format(
                    date=str(ctx.case.withdraw_until)))
            await self._withdraw_sealed(session, ctx)
            await self.life.withdraw(session, ctx)
            return Outcome().say(P.WITHDRAWN)
        sealed = ctx.state == "submitted"
        await self.life.delete_all(session, ctx)
        return Outcome().say(P.DELETED + (P.DELETE_SEALED_NOTE if sealed else ""))

    async def _withdraw_sealed(self, session: AsyncSession, ctx: Ctx) -> None:
        """A statement already with the reviewer gets a signed withdrawal notice."""
        for statement in await self.life.statements_of(session, ctx):
            if statement.state == "sealed" and self.sealing is not None:
                await self.sealing.withdraw(session, statement)

    async def receipts(self, session: AsyncSession, user_hash: str) -> Outcome:
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None:
            return Outcome().say(P.STRANGER)
        codes = [s.receipt_code for s in await self.life.statements_of(session, ctx)
                 if s.receipt_code and s.state == "sealed"]
        if not codes:
            return Outcome().say(P.NO_RECEIPT)
        return Outcome().say(P.RECEIPTS.format(codes=", ".join(codes)))

    def _support(self, ctx: Ctx) -> str:
        from interview.consent_texts import DEFAULT_SUPPORT

        return DEFAULT_SUPPORT[ctx.script.audience]


def texts_for_default_support() -> str:
    from interview.consent_texts import DEFAULT_SUPPORT

    return DEFAULT_SUPPORT["family"]
