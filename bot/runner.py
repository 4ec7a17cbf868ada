"""Long polling with commit-before-ack and per-chat ordering.

1. ``getUpdates`` returns a batch; every update is sealed into the inbox in one transaction.
2. Only then is the offset advanced, which tells Telegram (on the next ``getUpdates``) that the
   batch arrived. If the inbox cannot be written (database, disk or keys unavailable) the offset
   stays put and the same updates come again later: fail closed, lose nothing.
3. Each chat has a lane: its updates are handled one at a time, in order; different chats run
   concurrently. The unit-of-work middleware marks an update handled in the same transaction as
   its effects, so a crash at any point either redoes the whole update or nothing.
4. On start, updates left pending by a crash are handled first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import reading, writing
from storage.inbox import MAX_ATTEMPTS, Inbox, InboxState, Incoming
from storage.vault import Vault

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
LANE_IDLE_SECONDS = 30.0
TIDY_EVERY_SECONDS = 3600.0
SORRY = (
    "Sorry, something went wrong on our side with your last message. Everything you "
    "gave before it is safe. Please send it again, or send /help."
)


def chat_id_of(update: Update) -> int:
    if update.message is not None:
        return update.message.chat.id
    if update.edited_message is not None:
        return update.edited_message.chat.id
    if update.callback_query is not None:
        message = update.callback_query.message
        return message.chat.id if message is not None else update.callback_query.from_user.id
    if update.my_chat_member is not None:
        return update.my_chat_member.chat.id
    return 0


class UpdateRunner:
    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Inbox,
        vault: Vault,
        *,
        poll_timeout: int = 25,
        retry_delay: float = 1.0,
    ) -> None:
        self.bot = bot
        self.dp = dispatcher
        self.sessions = sessions
        self.inbox = inbox
        self.vault = vault
        self.poll_timeout = poll_timeout
        self.retry_delay = retry_delay
        self.offset: int | None = None
        self._lanes: dict[str, asyncio.Queue[int]] = {}
        self._lane_tasks: dict[str, asyncio.Task[None]] = {}
        self._queued: set[int] = set()
        self._in_memory: dict[int, Update] = {}
        self._group: asyncio.TaskGroup | None = None  # the lanes' task group while running

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``; then let the lanes finish what they hold (bounded) and return.

        The lanes run in a task group that lives as long as this call: none outlives it, and
        one that fails (a bug: updates' own errors are contained) stops the runner."""
        async with asyncio.TaskGroup() as lanes:
            self._group = lanes
            try:
                await self._poll(stop)
                await self._drain()
            finally:
                self._group = None

    async def _poll(self, stop: asyncio.Event) -> None:
        await self._recover()
        last_tidy = 0.0
        backoff = self.retry_delay
        while not stop.is_set():
            if time.monotonic() - last_tidy > TIDY_EVERY_SECONDS:
                last_tidy = time.monotonic()
                await self._tidy()
            try:
                updates = await self.bot.get_updates(
                    offset=self.offset,
                    timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self.poll_timeout + 10,
                )
            except (TelegramNetworkError, TelegramAPIError) as exc:
                log.warning("getUpdates failed: %s; retrying in %.1fs", type(exc).__name__, backoff)
                await self._sleep(stop, backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = self.retry_delay
            if updates and await self._accept(updates):
                self.offset = max(u.update_id for u in updates) + 1
            elif updates:
                await self._sleep(stop, self.retry_delay)

    async def _accept(self, updates: list[Update]) -> bool:
        """Seal a batch into the inbox. False (and nothing acknowledged) if that fails."""
        items = [
            Incoming(
                u.update_id,
                self.vault.chat_hash(chat_id_of(u)),
                u.model_dump(mode="json", exclude_none=True, by_alias=True),
            )
            for u in updates
        ]
        try:
            async with writing(self.sessions) as session:
                fresh = set(await self.inbox.store(session, items))
        except Exception as exc:  # noqa: BLE001 - fail closed whatever the storage error
            log.error(
                "inbox unavailable (%s): %d update(s) not acknowledged",
                type(exc).__name__,
                len(items),
            )
            return False
        # Only updates new to the inbox are handled; a re-delivered one is already handled or
        # queued. The lane gets the update object itself: reading back what was just sealed
        # would cost a read, a decryption and a parse per update at the busiest moment.
        for update, item in zip(updates, items, strict=True):
            if item.update_id in fresh:
                self.schedule(item.update_id, item.chat_key, update)
        return True

    def schedule(self, update_id: int, chat_key: str, update: Update | None = None) -> None:
        """Queue an update on its chat's lane. Once the runner is stopping, nothing new starts:
        the update stays pending in the inbox and is handled at the next start."""
        if update_id in self._queued or self._group is None:
            return
        self._queued.add(update_id)
        if update is not None:
            self._in_memory[update_id] = update
        lane = self._lanes.get(chat_key)
        if lane is None:
            lane = self._lanes[chat_key] = asyncio.Queue()
            self._lane_tasks[chat_key] = self._group.create_task(
                self._lane(chat_key, lane), name=f"lane-{chat_key[:8]}"
            )
        lane.put_nowait(update_id)

    async def _lane(self, chat_key: str, lane: asyncio.Queue[int]) -> None:
        try:
            while True:
                try:
                    update_id = await asyncio.wait_for(lane.get(), LANE_IDLE_SECONDS)
                except TimeoutError:
                    if lane.empty():
                        return
                    continue
                try:
                    await self._handle(update_id)
                finally:
                    self._queued.discard(update_id)
                    self._in_memory.pop(update_id, None)
                    lane.task_done()
        finally:
            if self._lanes.get(chat_key) is lane:
                del self._lanes[chat_key]
                self._lane_tasks.pop(chat_key, None)
            # Left over only when the lane is stopped (shutdown): they stay pending in the
            # inbox and are handled at the next start.
            while not lane.empty():
                pending = lane.get_nowait()
                self._queued.discard(pending)
                self._in_memory.pop(pending, None)

    async def _handle(self, update_id: int) -> None:
        started = time.perf_counter()
        update: Update | None = None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                # First attempt: the object the poller just sealed. A retry reads the inbox, which
                # says whether the failed attempt committed after all (then there is nothing to do).
                update = self._in_memory.pop(update_id, None) if attempt == 1 else None
                if update is None:
                    async with reading(self.sessions) as session:
                        payload = await self.inbox.load(session, update_id)
                    if payload is None:
                        return  # handled already (a re-delivery, or done before a restart)
                    update = Update.model_validate(payload, context={"bot": self.bot})
                await self.dp.feed_update(self.bot, update)
                log.debug(
                    "update %d handled in %.1f ms",
                    update_id,
                    (time.perf_counter() - started) * 1000,
                )
                return
            except Exception as exc:  # noqa: BLE001 - contained: one update never stops the bot
                where = exc.__traceback__
                while where is not None and where.tb_next is not None:
                    where = where.tb_next
                location = (
                    f"{where.tb_frame.f_code.co_filename}:{where.tb_lineno}"
                    if where is not None
                    else "?"
                )
                log.error(
                    "update %d failed (attempt %d): %s at %s",
                    update_id,
                    attempt,
                    type(exc).__name__,
                    location,
                )
                await asyncio.sleep(self.retry_delay * attempt)
        await self._give_up(update_id, update)

    async def _give_up(self, update_id: int, update: Update | None) -> None:
        with contextlib.suppress(Exception):
            async with writing(self.sessions) as session:
                await self.inbox.mark_done(session, update_id, state=InboxState.FAILED)
        log.error("update %d abandoned after %d attempts", update_id, MAX_ATTEMPTS)
        chat_id = chat_id_of(update) if update is not None else 0
        if chat_id > 0:
            with contextlib.suppress(Exception):
                await self.bot.send_message(chat_id, SORRY)

    async def _recover(self) -> None:
        async with reading(self.sessions) as session:
            pending = await self.inbox.pending(session)
        if pending:
            log.info("resuming %d update(s) left pending", len(pending))
        for update_id, chat_key in pending:
            self.schedule(update_id, chat_key)

    async def _tidy(self) -> None:
        try:
            async with writing(self.sessions) as session:
                shredded = await self.inbox.tidy(session)
            if shredded:
                log.info("inbox: %d expired key(s) shredded", shredded)
        except Exception as exc:  # noqa: BLE001
            log.warning("inbox tidy failed: %s", type(exc).__name__)

    async def _drain(self, grace: float = 10.0) -> None:
        """Let lanes finish what they hold (bounded), then stop them."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                for lane in list(self._lanes.values()):
                    await lane.join()
        self._group = None  # no new lanes from here on
        for task in list(self._lane_tasks.values()):
            task.cancel()

    @staticmethod
    async def _sleep(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
