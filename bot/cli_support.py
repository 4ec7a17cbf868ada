"""Shared plumbing for the ``casevoice`` commands: settings, one-line errors, JSON output."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import socket
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
    """Run one async unit of work; a CaseVoiceError becomes one line and exit code 1."""
    try:
        return asyncio.run(_wrap(coro_fn))
    except CaseVoiceError as exc:
        log.debug("command failed: %s", type(exc).__name__)
        fail(str(exc))
    except SQLAlchemyError as exc:
        # The exception text may quote SQL parameters (content): name the type only.
        log.debug("database failed: %s", type(exc).__name__)
        fail(
            f"the database at CASEVOICE_DATABASE_URL is unavailable or refused the change "
            f"({type(exc).__name__}); nothing was changed"
        )
    except OSError as exc:
        log.debug("disk or network failed: %s", type(exc).__name__)
        if isinstance(exc, ConnectionError | socket.gaierror) or exc.errno in _NETWORK_ERRNOS:
            fail(
                f"cannot reach the database at CASEVOICE_DATABASE_URL "
                f"({exc.strerror or type(exc).__name__}); nothing was changed"
            )
        fail(f"{exc.strerror or type(exc).__name__}{f': {exc.filename}' if exc.filename else ''}")


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
