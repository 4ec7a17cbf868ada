"""The participant's conversation: thin handlers that call ``ConversationService``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from io import BytesIO

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import unpack
from handlers.outbox import Outbox
from handlers.render import apply, queue_delete
from interview.services import phrases as P
from interview.services.conversation import ConversationService
from interview.services.replies import Outcome
from interview.services.voice import VoiceNote, too_big
from storage.inbox import Inbox
from storage.tables import utcnow
from storage.vault import Vault

log = logging.getLogger(__name__)
COMMANDS = ("help", "pause", "resume", "withdraw", "delete", "clear", "receipt")


def source_key(message: Message) -> str:
    return f"msg:{message.message_id}"


async def on_start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    outbox: Outbox,
    conversation: ConversationService,
    vault: Vault,
) -> None:
    assert message.from_user is not None  # noqa: S101 - private chats have a sender
    payload = (command.args or "").strip()
    outcome = await conversation.start(session, vault.user_hash(message.from_user.id), payload)
    if payload:
        # The code is a secret: once used, take it out of the chat history.
        outcome.delete_incoming = True
    apply(outcome, outbox, message.chat.id, incoming_message_id=message.message_id)


async def on_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    outbox: Outbox,
    conversation: ConversationService,
    vault: Vault,
    chat_key: str,
) -> None:
    assert message.from_user is not None  # noqa: S101
    outcome = await conversation.command(
        session, vault.user_hash(message.from_user.id), command.command
    )
    if outcome.clear_chat:
        since = utcnow() - timedelta(hours=47, minutes=55)
        ids = await Inbox.recent_messages(session, chat_key, since)
        ids = sorted({*ids, message.message_id})
        await Inbox.forget_messages(session, chat_key, ids)
        queue_delete(outbox, message.chat.id, ids)
    apply(outcome, outbox, message.chat.id)


async def on_text(
    message: Message,
    session: AsyncSession,
    outbox: Outbox,
    conversation: ConversationService,
    vault: Vault,
) -> None:
    assert message.from_user is not None and message.text is not None  # noqa: S101
    outcome = await conversation.text(
        session, vault.user_hash(message.from_user.id), message.text, source_key(message)
    )
    apply(outcome, outbox, message.chat.id, incoming_message_id=message.message_id)


async def on_edited(
    message: Message,
    session: AsyncSession,
    outbox: Outbox,
    conversation: ConversationService,
    vault: Vault,
) -> None:
    assert message.from_user is not None and message.text is not None  # noqa: S101
    outcome = await conversation.edited(
        session, vault.user_hash(message.from_user.id), message.text, source_key(message)
    )
    apply(outcome, outbox, message.chat.id)


async def on_press(
    query: CallbackQuery,
    session: AsyncSession,
    outbox: Outbox,
    conversation: ConversationService,
    vault: Vault,
) -> None:
    assert query.data is not None  # noqa: S101
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    press = unpack(query.data)  # None: not a button of ours; the service says so kindly
    outcome = await conversation.press(session, vault.user_hash(query.from_user.id), press)
    apply(outcome, outbox, chat_id, callback=query)
    if outcome.seal_statement is not None:
        outbox.add("seal", seal_then_receipt(conversation, chat_id, outcome.seal_statement))


def seal_then_receipt(
    conversation: ConversationService, chat_id: int, statement_id: str
) -> Callable[[Bot], Awaitable[int | None]]:
    """After the submission is committed: seal it, then hand the person their receipt."""

    async def action(bot: Bot) -> int | None:
        if conversation.sealing is None:
            return None
        try:
            sealed = await conversation.sealing.seal(statement_id)
        except Exception as exc:  # noqa: BLE001 - the sweep retries; the person is told
            log.error("sealing %s failed: %s", statement_id, type(exc).__name__)
            message = await bot.send_message(chat_id, P.RECEIPT_DELAYED)
            return message.message_id
        if sealed is None:
            return None
        message = await bot.send_message(chat_id, P.RECEIPT.format(code=sealed.receipt_code))
        return message.message_id

    return action


async def on_voice(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    outbox: Outbox,
    conversation: ConversationService,
    vault: Vault,
    max_voice_seconds: int,
) -> None:
    """A voice note or audio file: refuse kindly if too big, else keep it (encrypted) and queue
    it for transcription. The download happens before the transaction takes its lock."""
    assert message.from_user is not None  # noqa: S101
    media = message.voice or message.audio or message.document
    assert media is not None  # noqa: S101 - the filter guarantees one
    duration = getattr(media, "duration", None)
    refusal = too_big(media.file_size, duration, max_voice_seconds)
    if refusal is not None:
        apply(Outcome().say(refusal), outbox, message.chat.id)
        return
    buffer = BytesIO()
    try:
        await bot.download(media.file_id, destination=buffer)
    except TelegramBadRequest:
        apply(Outcome().say(P.VOICE_TOO_LARGE), outbox, message.chat.id)
        return
    note = VoiceNote(
        buffer.getvalue(),
        media.mime_type or "audio/ogg",
        float(duration) if duration is not None else None,
        message.chat.id,
        source_key(message),
    )
    outcome = await conversation.voice(session, vault.user_hash(message.from_user.id), note)
    chat_id = message.chat.id

    async def typing(bot: Bot) -> None:
        await bot.send_chat_action(chat_id, ChatAction.TYPING)

    outbox.add("sendChatAction", typing)
    apply(outcome, outbox, chat_id, incoming_message_id=message.message_id)
    outbox.add("wake", conversation.wake_transcription)


async def on_other(message: Message, outbox: Outbox) -> None:
    """Stickers, photos, files…: not an answer, and nothing is kept."""
    apply(Outcome().say(P.UNSUPPORTED), outbox, message.chat.id)


def build_router() -> Router:
    router = Router(name="conversation")
    router.message.filter(F.chat.type == "private")
    router.message.register(on_start, CommandStart())
    router.message.register(on_command, Command(*COMMANDS))
    router.message.register(on_text, F.text)
    audio_file = F.document.mime_type.startswith("audio/")
    router.message.register(on_voice, F.voice | F.audio | audio_file)
    private_text = F.text & (F.chat.type == "private") & ~F.forward_origin
    router.edited_message.register(on_edited, private_text)
    router.callback_query.register(on_press, F.data)
    router.message.register(on_other)
    return router
