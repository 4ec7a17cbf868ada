"""Refusals that come before any conversation: group chats, forwarded messages, bots."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import ChatMemberUpdated, Message

from handlers.outbox import Outbox
from handlers.render import apply
from interview.services import phrases as P
from interview.services.replies import Outcome

NOT_PRIVATE = F.chat.type != ChatType.PRIVATE


async def on_added_to_group(event: ChatMemberUpdated, outbox: Outbox) -> None:
    """Added to a group or channel: leave at once, storing nothing."""
    if event.new_chat_member.status in ("member", "administrator"):
        apply(Outcome(leave_chat=True).say(P.GROUP_REFUSED), outbox, event.chat.id)


async def on_private_status(event: ChatMemberUpdated) -> None:
    """Blocked or unblocked in a private chat: nothing to do."""


async def on_group_message(message: Message, outbox: Outbox) -> None:
    apply(Outcome(leave_chat=True).say(P.GROUP_REFUSED), outbox, message.chat.id)


async def on_forwarded(message: Message, outbox: Outbox) -> None:
    """Somebody else's words are never taken as the participant's answer."""
    apply(Outcome().say(P.FORWARDED_REFUSED), outbox, message.chat.id)


async def on_bot_message(message: Message) -> None:
    """Messages from bots are ignored."""


def build_router() -> Router:
    router = Router(name="safety")
    router.my_chat_member.register(on_added_to_group, NOT_PRIVATE)
    router.my_chat_member.register(on_private_status)
    router.message.register(on_group_message, NOT_PRIVATE)
    router.message.register(on_forwarded, F.forward_origin)
    router.message.register(on_bot_message, F.from_user.is_bot)
    return router
