"""Small questions asked of the Bot API outside the running bot (e.g. the bot's username).

aiogram is imported only when the Bot API is actually asked: importing ``aiogram.types`` costs
seconds, and every ``casevoice`` command imports this module.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.settings import Settings
from storage.errors import ConfigurationError

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)


def make_bot(settings: Settings, *, timeout: float = 30.0) -> Bot:
    """A Bot talking to ``CASEVOICE_TELEGRAM_API`` (Telegram, or the local sandbox)."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.utils.token import TokenValidationError

    if settings.bot_token is None:
        raise ConfigurationError("CASEVOICE_BOT_TOKEN is not set")
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api), timeout=timeout
    )
    try:
        return Bot(settings.bot_token.get_secret_value(), session=session)
    except TokenValidationError:
        raise ConfigurationError("CASEVOICE_BOT_TOKEN is not a valid bot token") from None


async def resolve_bot_username(settings: Settings) -> str:
    """``CASEVOICE_BOT_USERNAME``, or else ask the Bot API with ``getMe``."""
    if settings.bot_username:
        return settings.bot_username
    if settings.bot_token is None:
        raise ConfigurationError(
            "CASEVOICE_BOT_USERNAME is not set (set it, or CASEVOICE_BOT_TOKEN so it can be "
            "asked of Telegram)"
        )
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    bot = make_bot(settings, timeout=15)
    try:
        me = await bot.get_me()
    except (TelegramAPIError, TelegramNetworkError) as exc:
        log.debug("getMe failed: %s", type(exc).__name__)
        why = "no connection" if isinstance(exc, TelegramNetworkError) else type(exc).__name__
        raise ConfigurationError(
            f"CASEVOICE_BOT_USERNAME is not set and getMe at {settings.telegram_api} failed "
            f"({why}); set CASEVOICE_BOT_USERNAME, or check CASEVOICE_TELEGRAM_API and the network"
        ) from None
    finally:
        await bot.session.close()
    if not me.username:
        raise ConfigurationError("CASEVOICE_BOT_USERNAME: the Bot API returned no username")
    return me.username
