"""What the conversation wants said, independent of Telegram.

Handlers turn these into Bot API calls (``handlers/render.py``). Buttons carry a short action
code and an argument; the pair must fit Telegram's 64-byte ``callback_data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CALLBACK_LIMIT = 64


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    arg: str = ""

    @property
    def data(self) -> str:
        data = f"{self.action}:{self.arg}" if self.arg else self.action
        if not 1 <= len(data.encode()) <= CALLBACK_LIMIT:
            raise ValueError(f"callback data for {self.action} is longer than 64 bytes")
        return data

    @staticmethod
    def parse(data: str) -> tuple[str, str]:
        action, _, arg = data.partition(":")
        return action, arg


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
