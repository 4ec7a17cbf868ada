"""Outgoing Bot API calls retry on 429 (honouring ``retry_after``), 5xx and network errors.

400 and 403 never retry: the request is wrong or the person blocked the bot, and repeating it
cannot help. Retries happen inline, so messages to one chat keep their order.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    RestartingTelegram,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, Response, TelegramMethod

log = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        max_retry_after: float = 120.0,
    ) -> None:
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Response[Any]:
        if isinstance(method, GetUpdates):
            # The poller has its own back-off; a long poll must not be multiplied.
            return await make_request(bot, method)
        name = type(method).__name__
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts:
                    raise
                delay = min(float(exc.retry_after), self.max_retry_after)
                log.warning("%s: 429, retrying after %.1fs (attempt %d)", name, delay, attempt)
            except (TelegramServerError, RestartingTelegram, TelegramNetworkError) as exc:
                if attempt == self.attempts:
                    raise
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                delay *= 0.75 + random.random() / 2  # noqa: S311 - jitter, not crypto
                log.warning(
                    "%s: %s, retrying in %.2fs (attempt %d)",
                    name,
                    type(exc).__name__,
                    delay,
                    attempt,
                )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
