"""The introduction and the three separate consent questions, one message at a time."""

from __future__ import annotations

from typing import cast

from sqlmodel.ext.asyncio.session import AsyncSession

from interview.consent import ConsentKey
from interview.consent_texts import BUTTON_CONTINUE, BUTTON_NOT_NOW, BUTTON_TELL_ME_MORE
from interview.services import phrases as P
from interview.services.context import Ctx
from interview.services.lifecycle import Lifecycle, texts_for
from interview.services.replies import Action, Button, Outcome, Press
from storage.audit import AuditLog
from storage.tables import InterviewState, utcnow

CONSENT_ORDER: tuple[ConsentKey, ...] = ("take_part", "quote", "anonymised_publication")
CONSENT_STATES = frozenset({InterviewState.INTRO, InterviewState.CONSENT, InterviewState.DECLINED})
ANSWERS = frozenset({Action.CONSENT_YES, Action.CONSENT_NO, Action.CONSENT_MORE})


class ConsentFlow:
    def __init__(self, audit: AuditLog, life: Lifecycle) -> None:
        self.audit = audit
        self.life = life

    def intro(self, ctx: Ctx, *, more: bool = False) -> Outcome:
        texts = texts_for(ctx)
        pages = texts.tell_me_more if more else texts.intro
        out = Outcome()
        for page in pages[:-1]:
            out.say(page)
        buttons = [Button(BUTTON_CONTINUE, Press(Action.CONTINUE))]
        if not more:
            buttons.append(Button(BUTTON_TELL_ME_MORE, Press(Action.TELL_ME_MORE)))
        out.say(pages[-1], tuple(buttons), (Button(BUTTON_NOT_NOW, Press(Action.NOT_NOW)),))
        return out

    def current(self, ctx: Ctx) -> Outcome:
        """The intro or the consent question the person is at (after a pause, or a stray
        message while consent is being asked)."""
        step = ctx.pos.consent_step or "intro"
        if step == "intro" or ctx.state == InterviewState.DECLINED:
            return self.intro(ctx)
        key = cast(ConsentKey, step)
        question = texts_for(ctx).question(key)
        return Outcome().say(
            question.text,
            (Button(question.yes_label, Press(Action.CONSENT_YES, step=key)),),
            (Button(question.no_label, Press(Action.CONSENT_NO, step=key)),),
            (Button(BUTTON_TELL_ME_MORE, Press(Action.CONSENT_MORE, step=key)),),
        )

    async def press(self, session: AsyncSession, ctx: Ctx, press: Press) -> Outcome | None:
        """A consent button. ``None`` when consent is complete: the interview starts."""
        texts = texts_for(ctx)
        action = press.action
        if action == Action.TELL_ME_MORE:
            return self.intro(ctx, more=True)
        if action == Action.NOT_NOW:
            return Outcome().say(texts.not_now)
        if action == Action.CONTINUE:
            ctx.pos.consent_step = "take_part"
            ctx.save(session, InterviewState.CONSENT)
            return self.current(ctx)
        key = press.step
        if action not in ANSWERS or key is None or key != ctx.pos.consent_step:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        question = texts.question(key)
        if action == Action.CONSENT_MORE:
            return Outcome(clear_pressed=False).say(question.more)
        agreed = action == Action.CONSENT_YES
        if question.required and not agreed:
            ctx.pos.consent_step = "intro"
            ctx.save(session, InterviewState.DECLINED)
            await self.audit.append(
                session, "participant", "consent.declined", {"interview": ctx.interview.id}
            )
            return Outcome().say(texts.declined)
        ctx.pos.consent[key] = agreed
        following = CONSENT_ORDER.index(key) + 1
        if following < len(CONSENT_ORDER):
            ctx.pos.consent_step = CONSENT_ORDER[following]
            ctx.save(session, InterviewState.CONSENT)
            return self.current(ctx)
        ctx.pos.consent_step = None
        ctx.interview.started_at = ctx.interview.started_at or utcnow()
        ctx.save(session, InterviewState.INTERVIEW)
        await self.life.record_consent(session, ctx, "enrolment")
        return None
