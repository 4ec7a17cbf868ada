"""Replies wait in an outbox until the update's effects are committed, then go out in order."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

log = logging.getLogger(__name__)

Action = Callable[[Bot], Awaitable[int | None]]


@dataclass
class Outbox:
    """Queued Bot API calls for one update. Each returns a sent message id, or None."""

    actions: list[tuple[str, Action]] = field(default_factory=list)

    def add(self, name: str, action: Action) -> None:
        self.actions.append((name, action))

    async def flush(self, bot: Bot) -> list[int]:
        sent: list[int] = []
        actions, self.actions = self.actions, []
        for name, action in actions:
            try:
                message_id = await action(bot)
            except TelegramForbiddenError:
                log.info("outbox: %s refused (bot blocked or chat gone)", name)
                break
            except TelegramBadRequest as exc:
                # e.g. editing a message that is already gone: nothing to retry.
                log.info("outbox: %s rejected: %s", name, type(exc).__name__)
                continue
            if message_id is not None:
                sent.append(message_id)
        return sent
