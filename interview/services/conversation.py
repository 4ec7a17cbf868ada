"""The participant's conversation: enrolment, consent, the interview, read-back, submission,
and the commands that work at any time (/help, /pause, /resume, /withdraw, /delete, /clear,
/receipt).

Handlers call one method per incoming event with the update's session (the caller commits)
and send the returned ``Outcome`` after the commit. The interview row holds a pointer
(``Position``: ids and flags); answers are sealed in the answer store. The consent steps live
in ``consent_flow``, the prompts in ``prompt_flow``, voice notes in ``voice``.
"""

from __future__ import annotations

import asyncio

from sqlmodel.ext.asyncio.session import AsyncSession

from interview.consent_texts import DEFAULT_SUPPORT
from interview.errors import InterviewError
from interview.services import phrases as P
from interview.services.answer_store import AnswerStore
from interview.services.consent_flow import CONSENT_STATES, ConsentFlow
from interview.services.context import ANSWERING, FINISHED, Ctx, load_ctx
from interview.services.invites import InviteService
from interview.services.lifecycle import Lifecycle
from interview.services.prompt_flow import PromptFlow
from interview.services.prompts import number_buttons, resume_button
from interview.services.replies import Action, Button, Outcome, Press
from interview.services.scripts import ScriptCatalog
from interview.services.sealing import SealingService
from interview.services.voice import VoiceNote, VoiceService
from storage.audit import AuditLog
from storage.tables import InterviewState, StatementState, utcnow
from storage.vault import Vault

# What each "are you sure?" button answers: the question the person must have been asked.
CONFIRMATIONS = {
    Action.WITHDRAW_YES: "withdraw",
    Action.WITHDRAW_NO: "withdraw",
    Action.DELETE_YES: "delete",
    Action.DELETE_NO: "delete",
}
VOICE_ACTIONS = frozenset({Action.HEARD_RIGHT, Action.HEARD_FIX, Action.HEARD_AGAIN})


class ConversationService:
    def __init__(
        self,
        vault: Vault,
        audit: AuditLog,
        scripts: ScriptCatalog,
        invites: InviteService,
        *,
        sealing: SealingService | None = None,
    ) -> None:
        self.scripts = scripts
        self.invites = invites
        self.sealing = sealing
        self.answers = AnswerStore(vault)
        self.life = Lifecycle(vault, audit, self.answers)
        self.consent = ConsentFlow(audit, self.life)
        self.prompts = PromptFlow(self.answers, self.life)
        self.voices = VoiceService(vault, self.answers)
        self.transcription_wakeup: asyncio.Event | None = None

    async def wake_transcription(self, _bot: object = None) -> None:
        """After a voice note is committed: let the transcription loop look now, not later."""
        if self.transcription_wakeup is not None:
            self.transcription_wakeup.set()

    # -- entry points ---------------------------------------------------------------------

    async def start(self, session: AsyncSession, user_hash: str, payload: str) -> Outcome:
        if payload:
            redeemed = await self.invites.redeem(session, payload, user_hash)
            if redeemed is None:
                return Outcome().say(P.STRANGER)
            ctx = await load_ctx(session, self.scripts, user_hash, redeemed.participant_id)
            if ctx is not None and ctx.state == InterviewState.INVITED:
                ctx.pos.consent_step = "intro"
                ctx.save(session, InterviewState.INTRO)
                return self.consent.intro(ctx)
        else:
            ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None:
            return Outcome().say(P.STRANGER)
        return await self.resume(session, ctx)

    async def command(self, session: AsyncSession, user_hash: str, name: str) -> Outcome:
        if name == "clear":
            return Outcome(clear_chat=True).say(P.CLEARED)
        if name == "receipt":
            return await self.receipts(session, user_hash)
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None or ctx.state in FINISHED:
            if name == "help":
                return Outcome().say(P.HELP.format(support=DEFAULT_SUPPORT["family"]))
            return Outcome().say(P.NOTHING_HELD if ctx is not None else P.STRANGER)
        if name in ("resume", "start"):
            return await self.resume(session, ctx)
        if name == "pause":
            return self.prompts.pause(session, ctx)
        if name in ("withdraw", "delete"):
            return self._confirm(session, ctx, name)
        return Outcome().say(P.HELP.format(support=DEFAULT_SUPPORT[ctx.script.audience]))

    async def text(
        self, session: AsyncSession, user_hash: str, text: str, source_key: str
    ) -> Outcome:
        ctx = await load_ctx(session, self.scripts, user_hash)
        refusal = self._not_answering(ctx)
        if refusal is not None or ctx is None:
            return refusal or Outcome().say(P.STRANGER)
        if ctx.state == InterviewState.READBACK:
            if text.strip().isdigit():
                return await self.prompts.edit(session, ctx, int(text.strip()))
            return Outcome().say(P.READBACK_USE_BUTTONS)
        if ctx.state == InterviewState.PAUSED:
            ctx.save(session, InterviewState.INTERVIEW)
        if (ctx.pos.awaiting or "").startswith("correct:"):
            return await self.voices.correct(session, ctx, text)
        return await self.prompts.answer(session, ctx, text, source_key)

    async def voice(self, session: AsyncSession, user_hash: str, note: VoiceNote) -> Outcome:
        ctx = await load_ctx(session, self.scripts, user_hash)
        refusal = self._not_answering(ctx)
        if refusal is not None or ctx is None:
            return refusal or Outcome().say(P.STRANGER)
        if ctx.state == InterviewState.READBACK:
            return Outcome().say(P.READBACK_USE_BUTTONS)
        ctx.pos.awaiting = None
        return await self.voices.accept(session, ctx, note)

    async def edited(
        self, session: AsyncSession, user_hash: str, text: str, source_key: str
    ) -> Outcome:
        """The person edited a message they sent as an answer: keep both versions."""
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None or ctx.state not in ANSWERING:
            return Outcome(clear_pressed=False)
        updated = await self.answers.revise(session, ctx.interview, source_key, text)
        return Outcome().say(P.SAVED_CHOICE) if updated else Outcome(clear_pressed=False)

    async def press(self, session: AsyncSession, user_hash: str, press: Press | None) -> Outcome:
        """A button. ``None``: data that is no button of ours (stale, or forged), answered
        kindly and changing nothing."""
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None or ctx.state in FINISHED:
            return Outcome(toast=P.NOTHING_HELD if ctx else None).say(
                P.STRANGER if ctx is None else P.NOTHING_HELD
            )
        if press is None:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        try:
            return await self._press(session, ctx, press)
        except InterviewError as exc:
            return Outcome(toast=exc.user_message[:200], clear_pressed=False)

    async def receipts(self, session: AsyncSession, user_hash: str) -> Outcome:
        ctx = await load_ctx(session, self.scripts, user_hash)
        if ctx is None:
            return Outcome().say(P.STRANGER)
        codes = [
            s.receipt_code
            for s in await self.life.statements_of(session, ctx)
            if s.receipt_code and s.state == StatementState.SEALED
        ]
        if not codes:
            return Outcome().say(P.NO_RECEIPT)
        return Outcome().say(P.RECEIPTS.format(codes=", ".join(codes)))

    # -- routing ----------------------------------------------------------------------------

    def _not_answering(self, ctx: Ctx | None) -> Outcome | None:
        """Why a typed or spoken message is not an answer right now, if it is not."""
        if ctx is None or ctx.state in FINISHED:
            return Outcome().say(P.STRANGER if ctx is None else P.NOTHING_HELD)
        if ctx.state in CONSENT_STATES:
            return self.consent.current(ctx)
        if ctx.state == InterviewState.SUBMITTED:
            return Outcome().say(P.ALREADY_SUBMITTED)
        return None

    async def _press(self, session: AsyncSession, ctx: Ctx, press: Press) -> Outcome:
        action = press.action
        if action == Action.RESUME:
            return await self.resume(session, ctx)
        if action in CONFIRMATIONS:
            return await self._confirmed(session, ctx, action)
        if action in VOICE_ACTIONS and ctx.state in ANSWERING:
            return await self.voices.press(session, ctx, press)
        if ctx.state in CONSENT_STATES:
            outcome = await self.consent.press(session, ctx, press)
            return outcome if outcome is not None else await self.prompts.start(session, ctx)
        if ctx.state == InterviewState.SUBMITTED:
            return Outcome(toast=P.ALREADY_SUBMITTED[:200]).say(P.ALREADY_SUBMITTED)
        if ctx.state == InterviewState.READBACK:
            return await self._readback_press(session, ctx, press)
        return await self.prompts.press(session, ctx, press)

    async def resume(self, session: AsyncSession, ctx: Ctx) -> Outcome:
        if ctx.state in CONSENT_STATES:
            return self.consent.current(ctx)
        if ctx.state == InterviewState.SUBMITTED:
            return Outcome().say(P.ALREADY_SUBMITTED)
        if ctx.state in FINISHED:
            return Outcome().say(P.NOTHING_HELD)
        return await self.prompts.resume(session, ctx)

    # -- read-back and submission -----------------------------------------------------------

    async def _readback_press(self, session: AsyncSession, ctx: Ctx, press: Press) -> Outcome:
        action = press.action
        if action == Action.SEND:
            if await self.voices.pending(session, ctx):
                return Outcome(toast=P.STILL_TRANSCRIBING[:200], clear_pressed=False)
            submitted = await self.life.submit(session, ctx)
            # Sealing runs once this is committed (see handlers: seal_then_receipt).
            return Outcome(seal_statement=submitted.statement_id).say(P.SUBMITTED)
        if action == Action.EDIT:
            total = await self.prompts.visible_count(session, ctx)
            return Outcome().say(P.EDIT_PICK, *number_buttons(total))
        if action == Action.EDIT_NUMBER and press.number is not None:
            return await self.prompts.edit(session, ctx, press.number)
        if action == Action.BACK_TO_READBACK:
            return await self.resume(session, ctx)
        if action == Action.NOT_YET:
            return Outcome().say(P.NOT_YET, *resume_button())
        if action == Action.WITHDRAW:
            return self._confirm(session, ctx, "withdraw")
        return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)

    # -- withdraw and delete ----------------------------------------------------------------

    def _withdraw_closed(self, ctx: Ctx) -> Outcome | None:
        if not self.life.withdraw_closed(ctx, utcnow().date()):
            return None
        return Outcome().say(P.WITHDRAW_CLOSED.format(date=str(ctx.case.withdraw_until)))

    def _confirm(self, session: AsyncSession, ctx: Ctx, what: str) -> Outcome:
        closed = self._withdraw_closed(ctx) if what == "withdraw" else None
        if closed is not None:
            return closed
        ctx.pos.awaiting = what
        ctx.save(session)
        if what == "withdraw":
            return Outcome().say(
                P.CONFIRM_WITHDRAW,
                (Button(P.BUTTON_WITHDRAW_YES, Press(Action.WITHDRAW_YES)),),
                (Button(P.BUTTON_NO_KEEP, Press(Action.WITHDRAW_NO)),),
            )
        return Outcome().say(
            P.CONFIRM_DELETE,
            (Button(P.BUTTON_DELETE_YES, Press(Action.DELETE_YES)),),
            (Button(P.BUTTON_NO_KEEP, Press(Action.DELETE_NO)),),
        )

    async def _confirmed(self, session: AsyncSession, ctx: Ctx, action: Action) -> Outcome:
        if ctx.pos.awaiting != CONFIRMATIONS[action]:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        ctx.pos.awaiting = None
        if action in (Action.WITHDRAW_NO, Action.DELETE_NO):
            ctx.save(session)
            return Outcome().say(P.KEPT, *resume_button())
        if action == Action.WITHDRAW_YES:
            closed = self._withdraw_closed(ctx)
            if closed is not None:
                return closed
            await self._withdraw_sealed(session, ctx)
            await self.life.withdraw(session, ctx)
            return Outcome().say(P.WITHDRAWN)
        was_submitted = ctx.state == InterviewState.SUBMITTED
        await self.life.delete_all(session, ctx)
        return Outcome().say(P.DELETED + (P.DELETE_SEALED_NOTE if was_submitted else ""))

    async def _withdraw_sealed(self, session: AsyncSession, ctx: Ctx) -> None:
        """A statement already with the reviewer gets a signed withdrawal notice."""
        for statement in await self.life.statements_of(session, ctx):
            if statement.state == StatementState.SEALED and self.sealing is not None:
                await self.sealing.withdraw(session, statement)
