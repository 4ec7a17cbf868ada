"""The interview engine: where the participant is and where each button takes them.

Pure and deterministic, no I/O. The service passes in the script, the participant's ``Progress``
(which prompts are answered or skipped and the values picked for choice prompts, derived from
stored answers) and the ``Cursor`` kept on the interview row (in its ``Position``). The cursor is
a pointer only: the current prompt id and the ids of prompts already shown, never answer text.

Rules:

* Visibility is decided in script order: a prompt with ``show_if`` is shown when its (earlier,
  itself visible) choice prompt has at least one of the listed values picked.
* ``next`` goes to the first *open* (visible, neither answered nor skipped) prompt after the
  current one, else to the first open prompt anywhere, else to the read-back (``prompt_id`` None).
  The same rule serves a normal run, a return after Back, and an edit jumped to from read-back:
  a changed choice that reveals new prompts leads into them, one that hides prompts leaves their
  answers out of the statement (which takes only ``visible`` prompts).
* ``back`` goes to the previous visible prompt in script order (from read-back: the last one).
* A section's ``content_note`` comes with the first prompt of that section the participant sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from pydantic import BaseModel, ConfigDict

from interview.errors import AtFirstPromptError, NavigationError, SkipNotAllowedError
from interview.script import InterviewScript, Prompt, Section


@dataclass(frozen=True)
class Progress:
    """What the participant has done so far (ids and choice values only)."""

    answered: frozenset[str] = frozenset()
    skipped: frozenset[str] = frozenset()
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def closed(self, prompt_id: str) -> bool:
        return prompt_id in self.answered or prompt_id in self.skipped

    def with_skipped(self, *prompt_ids: str) -> Progress:
        ids = frozenset(prompt_ids)
        choices = {k: v for k, v in self.choices.items() if k not in ids}
        return replace(
            self, answered=self.answered - ids, skipped=self.skipped | ids, choices=choices
        )


class Cursor(BaseModel):
    """The pointer: current prompt (``None`` = at read-back) and prompts already shown."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_id: str | None
    visited: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """Where a move lands: the prompt to show (or read-back) and what to show before it."""

    cursor: Cursor
    prompt: Prompt | None
    section: Section | None
    number: int | None  # 1-based among the prompts visible now
    total: int
    content_note: str | None = None

    @property
    def finished(self) -> bool:
        return self.prompt is None


@dataclass(frozen=True)
class SectionSkip:
    step: Step
    skipped: tuple[str, ...]


class InterviewEngine:
    def __init__(self, script: InterviewScript) -> None:
        self.script = script
        self._order = {p.id: i for i, p in enumerate(script.prompts)}
        self._section = {p.id: s for s in script.sections for p in s.prompts}

    def visible(self, progress: Progress) -> list[Prompt]:
        shown: set[str] = set()
        out: list[Prompt] = []
        for prompt in self.script.prompts:
            cond = prompt.show_if
            if cond is not None:
                picked = progress.choices.get(cond.prompt, ()) if cond.prompt in shown else ()
                if not set(picked) & set(cond.in_):
                    continue
            shown.add(prompt.id)
            out.append(prompt)
        return out

    def open_prompts(self, progress: Progress) -> list[Prompt]:
        return [p for p in self.visible(progress) if not progress.closed(p.id)]

    def resume(self, progress: Progress, cursor: Cursor | None = None) -> Step:
        """Start, or come back after a pause or restart, at the same prompt when still sensible."""
        if cursor is None:
            cursor = Cursor(prompt_id=None)
            first = self.open_prompts(progress) or self.visible(progress)[:1]
            return self._arrive(progress, cursor, first[0].id if first else None)
        shown = {p.id for p in self.visible(progress)}
        if cursor.prompt_id is None or cursor.prompt_id not in shown:
            return self.next(progress, cursor)
        # Re-arriving: forget the current prompt so a pending content note is shown again.
        again = cursor.model_copy(
            update={"visited": tuple(v for v in cursor.visited if v != cursor.prompt_id)}
        )
        return self._arrive(progress, again, cursor.prompt_id)

    def next(self, progress: Progress, cursor: Cursor) -> Step:
        visible = self.visible(progress)
        here = -1 if cursor.prompt_id is None else self._order.get(cursor.prompt_id, -1)
        after = [p for p in visible if self._order[p.id] > here and not progress.closed(p.id)]
        anywhere = [p for p in visible if not progress.closed(p.id)]
        target = (after or anywhere)[:1]
        return self._arrive(progress, cursor, target[0].id if target else None)

    def back(self, progress: Progress, cursor: Cursor) -> Step:
        visible = self.visible(progress)
        if cursor.prompt_id is None:
            if not visible:
                raise AtFirstPromptError("nothing to go back to")
            return self._arrive(progress, cursor, visible[-1].id)
        here = self._order[cursor.prompt_id]
        before = [p for p in visible if self._order[p.id] < here]
        if not before:
            raise AtFirstPromptError(f"no prompt before {cursor.prompt_id}")
        return self._arrive(progress, cursor, before[-1].id)

    def skip(self, progress: Progress, cursor: Cursor) -> Step:
        """Skip the current prompt; the service records the skip (order does not matter)."""
        prompt = self._current(progress, cursor)
        if prompt.required:
            raise SkipNotAllowedError(prompt.id)
        return self.next(progress.with_skipped(prompt.id), cursor)

    def skip_section(self, progress: Progress, cursor: Cursor) -> SectionSkip:
        """Skip every still-unanswered visible prompt of the current prompt's section."""
        section = self._section[self._current(progress, cursor).id]
        ids = {p.id for p in section.prompts}
        todo = [p for p in self.open_prompts(progress) if p.id in ids]
        for prompt in todo:
            if prompt.required:
                raise SkipNotAllowedError(prompt.id)
        skipped = tuple(p.id for p in todo)
        last = section.prompts[-1].id
        after = progress.with_skipped(*skipped)
        return SectionSkip(self.next(after, cursor.model_copy(update={"prompt_id": last})), skipped)

    def jump_to(self, progress: Progress, cursor: Cursor, prompt_id: str) -> Step:
        """Go to a visible prompt, e.g. to change an answer from the read-back."""
        if prompt_id not in {p.id for p in self.visible(progress)}:
            raise NavigationError(f"prompt {prompt_id} is not shown")
        return self._arrive(progress, cursor, prompt_id)

    def jump_to_number(self, progress: Progress, cursor: Cursor, number: int) -> Step:
        """Go to the prompt the read-back shows as ``number`` (1-based)."""
        visible = self.visible(progress)
        if not 1 <= number <= len(visible):
            raise NavigationError(f"no prompt number {number}")
        return self._arrive(progress, cursor, visible[number - 1].id)

    def _current(self, progress: Progress, cursor: Cursor) -> Prompt:
        if cursor.prompt_id is None:
            raise NavigationError("not at a prompt")
        if cursor.prompt_id not in {p.id for p in self.visible(progress)}:
            raise NavigationError(f"prompt {cursor.prompt_id} is not shown")
        return self.script.prompt(cursor.prompt_id)

    def _arrive(self, progress: Progress, cursor: Cursor, prompt_id: str | None) -> Step:
        visible = self.visible(progress)
        if prompt_id is None:
            at_readback = cursor.model_copy(update={"prompt_id": None})
            return Step(at_readback, None, None, None, len(visible))
        section = self._section[prompt_id]
        seen = set(cursor.visited)
        note = None
        if section.content_note and not any(p.id in seen for p in section.prompts):
            note = section.content_note
        visited = (*cursor.visited, prompt_id) if prompt_id not in seen else cursor.visited
        number = next(i for i, p in enumerate(visible, start=1) if p.id == prompt_id)
        return Step(
            Cursor(prompt_id=prompt_id, visited=visited),
            self.script.prompt(prompt_id),
            section,
            number,
            len(visible),
            note,
        )
