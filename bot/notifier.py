"""Tells a participant about their voice note: working, words so far, what was heard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramBadRequest

from handlers.render import markup
from interview.chunks import split_text
from interview.services import phrases as P
from interview.services.replies import Say

log = logging.getLogger(__name__)
PROGRESS_TAIL = 3000


class TelegramVoiceNotifier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._messages: dict[str, int] = {}
        self._done: set[str] = set()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def working(self, chat_id: int, job_id: str) -> None:
        await self.bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def progress(self, chat_id: int, job_id: str, text: str) -> None:
        async with self._locks[job_id]:
            if job_id in self._done:
                return
            shown = text if len(text) <= PROGRESS_TAIL else "…" + text[-PROGRESS_TAIL:]
            body = P.HEARING.format(text=shown)
            message_id = self._messages.get(job_id)
            if message_id is None:
                sent = await self.bot.send_message(chat_id, body)
                self._messages[job_id] = sent.message_id
            else:
                # Unchanged text, or the person deleted the message: nothing to do.
                with contextlib.suppress(TelegramBadRequest):
                    await self.bot.edit_message_text(body, chat_id=chat_id, message_id=message_id)
            await self.bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def finished(self, chat_id: int, job_id: str, say: Say) -> None:
        async with self._locks[job_id]:
            self._done.add(job_id)
            chunks = split_text(say.text, 4000)
            message_id = self._messages.pop(job_id, None)
            for chunk in chunks[:-1]:
                await self.bot.send_message(chat_id, chunk)
                message_id = None  # the final part must come last, so send it anew
            last = Say(chunks[-1], say.buttons)
            if message_id is not None:
                try:
                    await self.bot.edit_message_text(
                        last.text, chat_id=chat_id, message_id=message_id, reply_markup=markup(last)
                    )
                    return
                except TelegramBadRequest:
                    pass
            await self.bot.send_message(chat_id, last.text, reply_markup=markup(last))
        self._locks.pop(job_id, None)
