"""Buttons on the wire: one aiogram ``CallbackData`` class per domain ``Action``.

The domain's buttons carry a typed ``Press`` (``interview/services/replies.py``), which knows
nothing of Telegram. Here each action gets a ``CallbackData`` class whose prefix is the action's
code and whose fields are the arguments that action takes, named as in ``Press``: ``pack`` turns
a ``Press`` into ``callback_data`` when a reply is rendered, ``unpack`` turns a pressed button
back into a ``Press`` before the service is called.

aiogram refuses to pack more than Telegram's 64 bytes; script validation keeps prompt ids (40)
and choice values (20) short enough for the longest button, ``ch:<prompt>:<value>``. Data that
is no button of ours (from an old message, or forged) unpacks to ``None``: the service answers
"That button belongs to an earlier message" and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from interview.consent import ConsentKey
from interview.services.replies import Action, Press

# The shapes, by the arguments an action takes. Subclasses set the prefix that goes on the wire
# (the bases' own prefixes are never packed).


class _Plain(CallbackData, prefix="plain"):
    pass


class _OnPrompt(CallbackData, prefix="on-prompt"):
    prompt: str


class _OnConsent(CallbackData, prefix="on-consent"):
    step: ConsentKey


class _OnAnswer(CallbackData, prefix="on-answer"):
    answer: str


# -- the introduction and the consent questions


class Continue(_Plain, prefix=Action.CONTINUE):
    pass


class TellMeMore(_Plain, prefix=Action.TELL_ME_MORE):
    pass


class NotNow(_Plain, prefix=Action.NOT_NOW):
    pass


class ConsentYes(_OnConsent, prefix=Action.CONSENT_YES):
    pass


class ConsentNo(_OnConsent, prefix=Action.CONSENT_NO):
    pass


class ConsentMore(_OnConsent, prefix=Action.CONSENT_MORE):
    pass


# -- under a prompt


class Choose(CallbackData, prefix=Action.CHOOSE):
    prompt: str
    value: str


class Done(_OnPrompt, prefix=Action.DONE):
    pass


class Keep(_OnPrompt, prefix=Action.KEEP):
    pass


class Skip(_OnPrompt, prefix=Action.SKIP):
    pass


class SkipSection(_OnPrompt, prefix=Action.SKIP_SECTION):
    pass


class Back(_OnPrompt, prefix=Action.BACK):
    pass


class Pause(_OnPrompt, prefix=Action.PAUSE):
    pass


class Help(_OnPrompt, prefix=Action.HELP):
    pass


# -- the read-back


class Send(_Plain, prefix=Action.SEND):
    pass


class Edit(_Plain, prefix=Action.EDIT):
    pass


class EditNumber(CallbackData, prefix=Action.EDIT_NUMBER):
    number: Annotated[int, Field(ge=0)]


class BackToReadback(_Plain, prefix=Action.BACK_TO_READBACK):
    pass


class NotYet(_Plain, prefix=Action.NOT_YET):
    pass


class Withdraw(_Plain, prefix=Action.WITHDRAW):
    pass


# -- "are you sure?"


class WithdrawYes(_Plain, prefix=Action.WITHDRAW_YES):
    pass


class WithdrawNo(_Plain, prefix=Action.WITHDRAW_NO):
    pass


class DeleteYes(_Plain, prefix=Action.DELETE_YES):
    pass


class DeleteNo(_Plain, prefix=Action.DELETE_NO):
    pass


# -- under a transcript


class HeardRight(_OnAnswer, prefix=Action.HEARD_RIGHT):
    pass


class HeardFix(_OnAnswer, prefix=Action.HEARD_FIX):
    pass


class HeardAgain(_OnAnswer, prefix=Action.HEARD_AGAIN):
    pass


# -- anywhere


class Resume(_Plain, prefix=Action.RESUME):
    pass


BY_ACTION: dict[Action, type[CallbackData]] = {
    Action(cls.__prefix__): cls
    for cls in (
        Continue, TellMeMore, NotNow, ConsentYes, ConsentNo, ConsentMore,
        Choose, Done, Keep, Skip, SkipSection, Back, Pause, Help,
        Send, Edit, EditNumber, BackToReadback, NotYet, Withdraw,
        WithdrawYes, WithdrawNo, DeleteYes, DeleteNo,
        HeardRight, HeardFix, HeardAgain,
        Resume,
    )
}  # fmt: skip
if set(BY_ACTION) != set(Action):  # pragma: no cover - a new Action needs its class here
    raise RuntimeError(f"no callback data for {sorted(set(Action) - set(BY_ACTION))}")


def pack(press: Press) -> str:
    """The ``callback_data`` of a button; ValueError if it would not fit in 64 bytes."""
    cls = BY_ACTION[press.action]
    return cls(**{name: getattr(press, name) for name in cls.model_fields}).pack()


def unpack(data: str) -> Press | None:
    """The press a button's data stands for, or None if it is no button of ours."""
    code = data.split(":", 1)[0]
    if code not in BY_ACTION:
        return None
    try:
        fields = BY_ACTION[Action(code)].unpack(data).model_dump()
    except (TypeError, ValueError):  # wrong number of parts, or a part of the wrong type
        return None
    return Press(Action(code), **fields)
