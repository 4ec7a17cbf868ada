"""The interview proper: showing a prompt, taking its answer parts, choices, Skip, Back,
Done, edits from the read-back, and coming back after a pause."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from interview.answers import progress_of
from interview.engine import Cursor, InterviewEngine, Progress, Step
from interview.services import phrases as P
from interview.services.answer_store import AnswerStore
from interview.services.context import Ctx
from interview.services.lifecycle import Lifecycle
from interview.services.prompts import readback_says, resume_button, saved_says, step_says
from interview.services.replies import Action, Outcome, Press
from storage.tables import InterviewState

DESCRIBED = {"family": "as a family member", "professional": "by your role"}


class PromptFlow:
    def __init__(self, answers: AnswerStore, life: Lifecycle) -> None:
        self.answers = answers
        self.life = life

    @staticmethod
    def engine(ctx: Ctx) -> InterviewEngine:
        return InterviewEngine(ctx.script)

    async def progress(self, session: AsyncSession, ctx: Ctx) -> Progress:
        return progress_of(await self.life.answers_of(session, ctx))

    async def show(
        self, session: AsyncSession, ctx: Ctx, step: Step, out: Outcome | None = None
    ) -> Outcome:
        """Put a prompt (or, at the end, the read-back) in front of the person."""
        out = out or Outcome()
        ctx.pos.cursor = step.cursor
        if step.finished:
            ctx.pos.editing = False
            ctx.save(session, InterviewState.READBACK)
            statement = await self.life.assemble(session, ctx)
            out.says.extend(readback_says(statement, DESCRIBED[ctx.participant.role]))
            return out
        assert step.prompt is not None  # noqa: S101 - not finished means a prompt
        ctx.save(
            session,
            InterviewState.PAUSED
            if ctx.state == InterviewState.PAUSED
            else InterviewState.INTERVIEW,
        )
        parts = await self.answers.parts_count(session, ctx.interview, step.prompt.id)
        picked = await self.answers.choices(session, ctx.interview, step.prompt.id)
        current = await self._current_answer(session, ctx, step) if ctx.pos.editing else None
        out.says.extend(
            step_says(
                step,
                has_parts=parts > 0 and step.prompt.kind != "choice",
                picked=picked,
                editing=ctx.pos.editing,
                current_answer=current,
            )
        )
        return out

    async def _current_answer(self, session: AsyncSession, ctx: Ctx, step: Step) -> str | None:
        """Shown only when the person asked to change this answer."""
        assert step.prompt is not None  # noqa: S101
        answer = (await self.life.answers_of(session, ctx)).get(step.prompt.id)
        if answer is None or not answer.answered:
            return None
        return "\n\n".join(
            [p.text for p in answer.parts]
            + [p.text for e in answer.events for p in e.parts]
            + [step.prompt.label_of(v) for v in answer.choices]
        )

    async def start(self, session: AsyncSession, ctx: Ctx) -> Outcome:
        return await self.show(
            session, ctx, self.engine(ctx).resume(await self.progress(session, ctx), None)
        )

    async def resume(self, session: AsyncSession, ctx: Ctx) -> Outcome:
        ctx.pos.awaiting = None
        step = self.engine(ctx).resume(await self.progress(session, ctx), ctx.pos.cursor)
        if ctx.state == InterviewState.PAUSED:
            ctx.save(session, InterviewState.INTERVIEW)
        return await self.show(session, ctx, step, Outcome().say(P.WELCOME_BACK))

    @staticmethod
    def pause(session: AsyncSession, ctx: Ctx) -> Outcome:
        if ctx.state in (InterviewState.INTERVIEW, InterviewState.READBACK):
            ctx.save(session, InterviewState.PAUSED)
        return Outcome().say(P.PAUSED, *resume_button())

    async def answer(self, session: AsyncSession, ctx: Ctx, text: str, source_key: str) -> Outcome:
        """One typed part of the current prompt's answer."""
        cursor = ctx.pos.cursor
        if cursor is None or cursor.prompt_id is None:
            return await self.resume(session, ctx)
        prompt = ctx.script.prompt(cursor.prompt_id)
        if prompt.kind == "choice":
            return Outcome().say(P.USE_BUTTONS_CHOICE)
        await self.answers.prepare_for_part(session, ctx, prompt.id)
        kind = "event" if prompt.chronology else "text"
        stored = await self.answers.add_part(
            session, ctx.interview, prompt.id, kind, text, source_key=source_key
        )
        ctx.save(session)
        out = Outcome(delete_incoming=ctx.case.delete_answers_from_chat and stored is not None)
        out.says.extend(saved_says(prompt))
        return out

    async def press(self, session: AsyncSession, ctx: Ctx, press: Press) -> Outcome:
        """A button under a prompt; buttons of an earlier prompt are refused as stale."""
        cursor = ctx.pos.cursor or Cursor(prompt_id=None)
        prompt_id, action = press.prompt, press.action
        if cursor.prompt_id is None or prompt_id != cursor.prompt_id:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        if ctx.state == InterviewState.PAUSED:
            ctx.save(session, InterviewState.INTERVIEW)
        engine = self.engine(ctx)
        prompt = ctx.script.prompt(prompt_id)
        if action == Action.HELP:
            return Outcome(clear_pressed=False).say(prompt.help or P.HELP)
        if action == Action.PAUSE:
            return self.pause(session, ctx)
        if action == Action.CHOOSE:
            return await self._choose(session, ctx, prompt_id, press.value or "", cursor)
        progress = await self.progress(session, ctx)
        if action == Action.BACK:
            return await self.show(session, ctx, engine.back(progress, cursor))
        if action == Action.KEEP:
            ctx.pos.edit_fresh = False
            return await self.show(session, ctx, engine.next(progress, cursor))
        if action == Action.SKIP:
            step = engine.skip(progress, cursor)
            await self._skipped(session, ctx, (prompt_id,))
            return await self.show(session, ctx, step)
        if action == Action.SKIP_SECTION:
            section = engine.skip_section(progress, cursor)
            await self._skipped(session, ctx, section.skipped)
            return await self.show(session, ctx, section.step)
        if action == Action.DONE:
            if (
                prompt.kind != "choice"
                and await self.answers.parts_count(session, ctx.interview, prompt_id) == 0
            ):
                return Outcome(clear_pressed=False).say(P.DONE_EMPTY)
            ctx.pos.edit_fresh = False
            return await self.show(session, ctx, engine.next(progress, cursor))
        return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)

    async def _skipped(self, session: AsyncSession, ctx: Ctx, prompt_ids: tuple[str, ...]) -> None:
        for prompt_id in prompt_ids:
            await self.answers.supersede(session, ctx.interview, prompt_id)
        ctx.pos.skipped = sorted({*ctx.pos.skipped, *prompt_ids})

    async def _choose(
        self, session: AsyncSession, ctx: Ctx, prompt_id: str, value: str, cursor: Cursor
    ) -> Outcome:
        prompt = ctx.script.prompt(prompt_id)
        if value not in {c.value for c in prompt.choices}:
            return Outcome(toast=P.STALE_BUTTON, clear_pressed=False)
        if prompt_id in ctx.pos.skipped:
            ctx.pos.skipped.remove(prompt_id)
        if not prompt.multiple:
            await self.answers.set_choice(session, ctx.interview, prompt_id, [value])
            ctx.pos.edit_fresh = False
            return await self.show(
                session, ctx, self.engine(ctx).next(await self.progress(session, ctx), cursor)
            )
        # Multiple choice: tick or untick, and redraw the same message with the new ticks.
        picked = await self.answers.choices(session, ctx.interview, prompt_id)
        picked = [v for v in picked if v != value] if value in picked else [*picked, value]
        order = [c.value for c in prompt.choices]
        picked = sorted(picked, key=order.index)
        await self.answers.set_choice(session, ctx.interview, prompt_id, picked)
        ctx.save(session)
        step = self.engine(ctx).jump_to(await self.progress(session, ctx), cursor, prompt_id)
        redrawn = Step(step.cursor, step.prompt, step.section, step.number, step.total, None)
        out = Outcome(clear_pressed=False)
        out.edit_pressed = step_says(redrawn, picked=picked, editing=ctx.pos.editing)[-1]
        return out

    async def edit(self, session: AsyncSession, ctx: Ctx, number: int) -> Outcome:
        """Go back to answer ``number`` of the read-back to change it."""
        engine = self.engine(ctx)
        progress = await self.progress(session, ctx)
        total = len(engine.visible(progress))
        if not 1 <= number <= total:
            return Outcome().say(P.EDIT_BAD_NUMBER.format(total=total))
        step = engine.jump_to_number(progress, ctx.pos.cursor or Cursor(prompt_id=None), number)
        ctx.pos.editing = True
        ctx.pos.edit_fresh = True
        ctx.save(session, InterviewState.INTERVIEW)
        return await self.show(session, ctx, step)

    async def visible_count(self, session: AsyncSession, ctx: Ctx) -> int:
        return len(self.engine(ctx).visible(await self.progress(session, ctx)))
