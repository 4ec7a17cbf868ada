"""What the conversation wants said, independent of Telegram.

Handlers turn these into Bot API calls (``handlers/render.py``). A button carries a ``Press``:
a typed ``Action`` and the typed arguments it needs. Handlers pack it into Telegram's
``callback_data`` (``handlers/callbacks.py``, 64 bytes at most) and unpack a pressed button back
into a ``Press`` before calling the service, so nothing here parses strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from interview.consent import ConsentKey


class Action(StrEnum):
    """What a button asks for. The values are short: they go into 64-byte callback data."""

    # the introduction and the consent questions
    CONTINUE = "ok"
    TELL_ME_MORE = "more"
    NOT_NOW = "notnow"
    CONSENT_YES = "cy"
    CONSENT_NO = "cn"
    CONSENT_MORE = "cm"
    # under a prompt
    CHOOSE = "ch"
    DONE = "done"
    KEEP = "keep"
    SKIP = "skip"
    SKIP_SECTION = "skipsec"
    BACK = "back"
    PAUSE = "pause"
    HELP = "help"
    # the read-back
    SEND = "send"
    EDIT = "edit"
    EDIT_NUMBER = "ed"
    BACK_TO_READBACK = "rb"
    NOT_YET = "later"
    WITHDRAW = "wd"
    # "are you sure?"
    WITHDRAW_YES = "wdy"
    WITHDRAW_NO = "wdn"
    DELETE_YES = "dly"
    DELETE_NO = "dln"
    # under a transcript
    HEARD_RIGHT = "vok"
    HEARD_FIX = "vfix"
    HEARD_AGAIN = "vre"
    # anywhere
    RESUME = "resume"


@dataclass(frozen=True)
class Press:
    """A button press: the action, and what it is about (only the arguments the action takes)."""

    action: Action
    prompt: str | None = None  # the prompt the button was shown under
    value: str | None = None  # the choice picked
    step: ConsentKey | None = None  # the consent question answered
    number: int | None = None  # an answer's number on the read-back
    answer: str | None = None  # the voice answer a transcript belongs to


@dataclass(frozen=True)
class Button:
    label: str
    press: Press

    @property
    def action(self) -> Action:
        return self.press.action


@dataclass(frozen=True)
class Say:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass
class Outcome:
    """Everything one incoming event leads to, sent only after its effects are committed."""

    says: list[Say] = field(default_factory=list)
    toast: str | None = None
    clear_pressed: bool = True
    edit_pressed: Say | None = None
    delete_incoming: bool = False
    leave_chat: bool = False
    clear_chat: bool = False
    seal_statement: str | None = None  # seal this statement once the update is committed

    def say(self, text: str, *rows: tuple[Button, ...]) -> Outcome:
        self.says.append(Say(text, tuple(rows)))
        return self
