"""Shared plumbing for the ``casevoice`` commands: settings, one-line errors, JSON output."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import socket
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from bot.container import Container
from bot.settings import Settings, load_settings
from storage.errors import CaseVoiceError

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
log = logging.getLogger("casevoice.cli")
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
}


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear line on stderr and a non-zero exit."""
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


def settings_or_fail() -> Settings:
    try:
        return load_settings()
    except CaseVoiceError as exc:
        fail(str(exc))


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run one async unit of work; an expected failure becomes one line and exit code 1."""
    try:
        return asyncio.run(_wrap(coro_fn))
    except Exception as exc:
        line = explain(exc)
        if line is None:
            raise
        log.debug("command failed: %s", type(exc).__name__)
        fail(line)


def explain(exc: BaseException, *, telegram_api: str | None = None) -> str | None:
    """One line for an expected failure: what failed, on what, and what to do (None: a bug).

    Never the exception's own text where it could quote SQL parameters (content), and never
    only its class name.
    """
    if isinstance(exc, CaseVoiceError):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        return (
            f"the database at CASEVOICE_DATABASE_URL is unavailable or refused the change "
            f"({type(exc).__name__}); check that it is running and the URL is right. "
            "Nothing was changed"
        )
    telegram = _explain_telegram(exc, telegram_api or "CASEVOICE_TELEGRAM_API")
    if telegram is not None:
        return telegram
    if isinstance(exc, OSError):
        return _explain_os_error(exc)
    return None


def _explain_os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, ConnectionError | socket.gaierror) or exc.errno in _NETWORK_ERRNOS:
        # Bot API failures arrive as aiogram errors; a bare network error is the database.
        return (
            f"cannot reach the database at CASEVOICE_DATABASE_URL ({reason}); start it or fix "
            "the URL. Nothing was changed"
        )
    where = f": {exc.filename}" if exc.filename else ""
    if isinstance(exc, FileNotFoundError):
        return f"{reason}{where}; check the path (the data folder is made by `casevoice init`)"
    if isinstance(exc, PermissionError):
        return f"{reason}{where}; check the owner and permissions of that file or folder"
    if exc.errno == errno.ENOSPC:
        return f"{reason}{where}; free some disk space and try again"
    if exc.errno == errno.EADDRINUSE:
        return f"{reason}{where}; another program is listening there: stop it or use another port"
    return f"{reason}{where}; check the path and try again"


def _explain_telegram(exc: BaseException, api: str) -> str | None:
    # Only a process that imported aiogram can raise its errors: no import cost otherwise.
    errors = sys.modules.get("aiogram.exceptions")
    if errors is None or not isinstance(exc, errors.TelegramAPIError | errors.TelegramNetworkError):
        return None
    if isinstance(exc, errors.TelegramNetworkError):
        return (
            f"cannot reach the Bot API at {api} (no connection); check CASEVOICE_TELEGRAM_API "
            "and this machine's network, then start again"
        )
    if isinstance(exc, errors.TelegramUnauthorizedError):
        return (
            f"the Bot API at {api} refused CASEVOICE_BOT_TOKEN (unauthorized); copy the token "
            "from @BotFather again"
        )
    if isinstance(exc, errors.TelegramNotFound):
        return (
            f"the Bot API at {api} does not know this bot (not found); check "
            "CASEVOICE_TELEGRAM_API and CASEVOICE_BOT_TOKEN"
        )
    if isinstance(exc, errors.TelegramServerError | errors.RestartingTelegram):
        return f"the Bot API at {api} keeps failing (server error); try again in a few minutes"
    return (
        f"the Bot API at {api} refused a request ({type(exc).__name__}); run again with "
        "CASEVOICE_LOG_LEVEL=DEBUG to see which"
    )


def listen_failure(host: str, port: int, exc: OSError) -> str:
    """Why a server could not listen on host:port, and what to do."""
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {host}:{port} (it is in use); choose another port with --port"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot listen on {host}:{port} ({reason}); choose another address or port"


async def _wrap(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return await coro_fn()


def with_container(fn: Callable[[Container], Awaitable[T]]) -> T:
    settings = settings_or_fail()

    async def body() -> T:
        container = await Container.open(settings)
        try:
            return await fn(container)
        finally:
            await container.aclose()

    return run(body)


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date (use YYYY-MM-DD)")


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
