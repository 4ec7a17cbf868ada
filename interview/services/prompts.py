"""How a prompt, an answer acknowledgement and the read-back look (domain replies only)."""

from __future__ import annotations

from interview.engine import Step
from interview.render import render_readback
from interview.script import Prompt
from interview.services import phrases as P
from interview.services.replies import Action, Button, Press, Say
from interview.statement import Statement

ROW = 4


def prompt_buttons(
    prompt: Prompt, *, has_parts: bool, picked: list[str], number: int, note: bool, editing: bool
) -> tuple[tuple[Button, ...], ...]:
    def under(label: str, action: Action) -> Button:
        return Button(label, Press(action, prompt=prompt.id))

    rows: list[tuple[Button, ...]] = []
    if prompt.kind == "choice":
        for choice in prompt.choices:
            mark = "✓ " if choice.value in picked else ""
            pick = Press(Action.CHOOSE, prompt=prompt.id, value=choice.value)
            rows.append((Button(mark + choice.label, pick),))
        if prompt.multiple and picked:
            rows.append((under(P.BUTTON_DONE, Action.DONE),))
    elif has_parts:
        rows.append((under(P.BUTTON_DONE, Action.DONE),))
    if editing:
        rows.append((under(P.BUTTON_KEEP, Action.KEEP),))
    nav = [under(P.BUTTON_SKIP, Action.SKIP)] if not prompt.required else []
    if number > 1:
        nav.append(under(P.BUTTON_BACK, Action.BACK))
    nav.append(under(P.BUTTON_PAUSE, Action.PAUSE))
    rows.append(tuple(nav))
    extra = []
    if prompt.help:
        extra.append(under(P.BUTTON_HELP, Action.HELP))
    if note:
        extra.append(under(P.BUTTON_SKIP_SECTION, Action.SKIP_SECTION))
    if extra:
        rows.append(tuple(extra))
    return tuple(rows)


def hint(prompt: Prompt) -> str:
    if prompt.kind == "choice":
        return P.HINT_CHOICE_MANY if prompt.multiple else P.HINT_CHOICE_ONE
    if prompt.kind == "date":
        return P.HINT_CHRONOLOGY if prompt.chronology else P.HINT_DATE
    return P.HINT_FREE


def step_says(
    step: Step,
    *,
    has_parts: bool = False,
    picked: list[str] | None = None,
    editing: bool = False,
    current_answer: str | None = None,
) -> list[Say]:
    """The messages that put a prompt in front of the person."""
    assert step.prompt is not None and step.number is not None  # noqa: S101
    says: list[Say] = []
    if step.content_note:
        says.append(Say(f"{P.NOTE_HEADING}\n\n{step.content_note.strip()}"))
    heading = (
        P.EDITING_NOW.format(number=step.number)
        if editing
        else P.QUESTION_HEADING.format(number=step.number, total=step.total)
    )
    body = f"{heading}\n\n{step.prompt.text.strip()}\n\n{hint(step.prompt)}"
    if editing and current_answer:
        says.append(Say(P.EDIT_CURRENT.format(answer=current_answer)[:3900]))
        body += "\n\n" + P.EDIT_HOW
    says.append(
        Say(
            body,
            prompt_buttons(
                step.prompt,
                has_parts=has_parts,
                picked=picked or [],
                number=step.number,
                note=bool(step.content_note),
                editing=editing,
            ),
        )
    )
    return says


def saved_says(prompt: Prompt) -> list[Say]:
    return [
        Say(
            P.SAVED,
            (
                (
                    Button(P.BUTTON_DONE, Press(Action.DONE, prompt=prompt.id)),
                    Button(P.BUTTON_PAUSE, Press(Action.PAUSE, prompt=prompt.id)),
                ),
            ),
        )
    ]


def readback_says(statement: Statement, described: str) -> list[Say]:
    says = [Say(P.READBACK_INTRO)]
    says.extend(Say(chunk) for chunk in render_readback(statement))
    consent = statement.consent
    says.append(
        Say(
            P.READBACK_ACTIONS.format(
                described=described,
                quote="yes" if consent.quote else "no",
                publish="yes" if consent.anonymised_publication else "no",
            ),
            (
                (Button(P.BUTTON_SEND, Press(Action.SEND)),),
                (
                    Button(P.BUTTON_EDIT, Press(Action.EDIT)),
                    Button(P.BUTTON_NOT_YET, Press(Action.NOT_YET)),
                ),
                (Button(P.BUTTON_WITHDRAW, Press(Action.WITHDRAW)),),
            ),
        )
    )
    return says


def number_buttons(total: int) -> tuple[tuple[Button, ...], ...]:
    buttons = [Button(str(n), Press(Action.EDIT_NUMBER, number=n)) for n in range(1, total + 1)]
    rows = [tuple(buttons[i : i + ROW]) for i in range(0, len(buttons), ROW)]
    rows.append((Button(P.BUTTON_KEEP, Press(Action.BACK_TO_READBACK)),))
    return tuple(rows)


def resume_button() -> tuple[tuple[Button, ...], ...]:
    return ((Button(P.BUTTON_RESUME, Press(Action.RESUME)),),)
