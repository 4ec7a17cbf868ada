"""One unit of work per update: a session, a transaction, an outbox.

The handler's effects and the inbox's "handled" mark commit together, so a crash either redoes
the whole update or nothing. Replies are sent only after the commit: nobody is told "saved"
about something that was not.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runner import chat_id_of
from handlers.outbox import Outbox
from storage.inbox import Inbox
from storage.vault import Vault

log = logging.getLogger(__name__)


class UnitOfWork(BaseMiddleware):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], inbox: Inbox, vault: Vault
    ) -> None:
        self.sessions = sessions
        self.inbox = inbox
        self.vault = vault

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)  # noqa: S101 - registered on dp.update
        bot: Bot = data["bot"]
        outbox = Outbox()
        chat_id = chat_id_of(event)
        chat_key = self.vault.chat_hash(chat_id)
        async with self.sessions() as session, session.begin():
            data.update(session=session, outbox=outbox, chat_key=chat_key)
            result = await handler(event, data)
            await self.inbox.mark_done(session, event.update_id)
            incoming = event.message or event.edited_message
            if incoming is not None and incoming.chat.type == "private":
                await self.inbox.remember_messages(session, chat_key, [incoming.message_id])
        sent = await outbox.flush(bot)
        if sent and chat_id > 0:
            try:
                async with self.sessions() as session, session.begin():
                    await self.inbox.remember_messages(session, chat_key, sent)
            except Exception as exc:  # noqa: BLE001 - bookkeeping for /clear only
                log.warning("could not record sent message ids: %s", type(exc).__name__)
        return result
