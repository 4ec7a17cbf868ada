"""``casevoice run``: the bot, long polling against Telegram or the local sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand
from aiogram.utils.token import TokenValidationError

from bot.container import Container
from bot.dispatcher import build_dispatcher
from bot.notifier import TelegramVoiceNotifier
from bot.responses import KeepResponseTypes
from bot.retry import RetryMiddleware
from bot.runner import UpdateRunner
from bot.settings import Settings
from interview.services.transcribing import TranscriptionLoop
from storage.errors import ConfigurationError
from transcription.pool import PoolConfig, WorkerPool

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand(command="resume", description="Carry on where you left off"),
    BotCommand(command="pause", description="Stop for now; everything is saved"),
    BotCommand(command="help", description="How this works, and support"),
    BotCommand(command="withdraw", description="Withdraw from the review"),
    BotCommand(command="delete", description="Delete everything held for you"),
    BotCommand(command="clear", description="Delete the messages in this chat"),
]


def build_bot(settings: Settings) -> Bot:
    """Every message is sent with protect_content (no forwarding or saving)."""
    if settings.bot_token is None:
        raise ConfigurationError("CASEVOICE_BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api))
    session.middleware(RetryMiddleware())
    session.middleware(KeepResponseTypes())
    try:
        return Bot(
            settings.bot_token.get_secret_value(),
            session=session,
            default=DefaultBotProperties(protect_content=True),
        )
    except TokenValidationError:
        raise ConfigurationError("CASEVOICE_BOT_TOKEN is not a valid bot token") from None


SWEEP_SECONDS = 60.0


async def seal_sweeper(container: Container, stop: asyncio.Event) -> None:
    """Finish sealings a crash interrupted: at start-up, then every minute."""
    sealing = container.conversation.sealing
    if sealing is None:
        return
    while not stop.is_set():
        done = await sealing.sweep()
        if done:
            log.info("sealing: %d interrupted statement(s) completed", done)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)


def pool_config(settings: Settings) -> PoolConfig:
    return PoolConfig(
        model=settings.whisper_model,
        data_dir=settings.data_dir,
        workers=max(1, settings.transcription_workers),
        threads=settings.whisper_threads,
        max_seconds=float(settings.max_voice_seconds),
    )


async def run_transcription(
    settings: Settings, container: Container, bot: Bot, stop: asyncio.Event
) -> None:
    """Whisper workers (separate processes) and the loop that feeds them durable jobs."""
    pool = WorkerPool(pool_config(settings))
    try:
        await pool.start()
        log.info("transcription: %d worker(s) ready", pool.size)
        loop = TranscriptionLoop(
            container.sessions, container.vault, pool, TelegramVoiceNotifier(bot)
        )
        container.conversation.transcription_wakeup = loop.wakeup
        await loop.run(stop)
    finally:
        await pool.close()


def first_error(group: BaseExceptionGroup[Exception]) -> Exception:
    """The first failure in a task group: the one error the command line reports."""
    first = group.exceptions[0]
    return first_error(first) if isinstance(first, BaseExceptionGroup) else first


def stop_on_signals(stop: asyncio.Event | None) -> asyncio.Event:
    """The event a runner waits on; SIGINT and SIGTERM set it for a clean shutdown."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """``casevoice worker``: transcription only, for deployments that scale workers out."""
    stop = stop_on_signals(stop)
    container = await Container.open(settings)
    bot = build_bot(settings)
    try:
        await run_transcription(settings, container, bot, stop)
    finally:
        await bot.session.close()
        await container.aclose()


async def run_bot(settings: Settings, stop: asyncio.Event | None = None) -> None:
    stop = stop_on_signals(stop)
    container = await Container.open(settings, with_evidence=True)
    bot = build_bot(settings)
    try:
        me = await bot.get_me()
        log.info("bot @%s started (id hash only in storage)", me.username)
        await bot.delete_webhook(drop_pending_updates=False)
        await bot.set_my_commands(COMMANDS)
        dp = build_dispatcher(
            container.sessions,
            container.inbox,
            container.vault,
            container.conversation,
            max_voice_seconds=settings.max_voice_seconds,
        )
        runner = UpdateRunner(bot, dp, container.sessions, container.inbox, container.vault)
        # The parts live and die together: a part that fails cancels the others (an update
        # cut short is rolled back and handled again at the next start).
        try:
            async with asyncio.TaskGroup() as parts:
                parts.create_task(runner.run(stop), name="updates")
                parts.create_task(seal_sweeper(container, stop), name="sealing")
                if settings.transcription_workers > 0:
                    parts.create_task(
                        run_transcription(settings, container, bot, stop), name="transcription"
                    )
        except ExceptionGroup as failed:
            raise first_error(failed) from None
    finally:
        stop.set()
        await bot.session.close()
        await container.aclose()
        log.info("bot stopped")
