"""Keep aiogram's parametrised ``Response[T]`` types alive between calls.

pydantic caches parametrised generic models only weakly, and aiogram asks for
``Response[method.__returning__]`` on every Bot API call. Once the cyclic garbage collector has
freed that class, the next call builds it again, schema and validator included: profiling
``bench/conversation.py`` found about a tenth of the bot's CPU there. One strong reference per
method type makes pydantic's cache stick.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod


class KeepResponseTypes(BaseRequestMiddleware):
    def __init__(self) -> None:
        self._kept: dict[type[Any], Any] = {}

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Response[Any]:
        kind = type(method)
        if kind not in self._kept:
            self._kept[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)
