"""The ``casevoice`` command: reviewer and operator tools, and the bot's runners.

Every command is non-interactive and scriptable; ``--json`` where the output is data. Errors
are one line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import typer

from bot.cli_admin import audit_app, init, keys_app
from bot.cli_cases import case_app, invite_app
from bot.logging import configure_logging
from bot.rehearse import rehearse
from bot.settings import Settings, load_settings
from review.cli import build_review_app
from storage.errors import CaseVoiceError

app = typer.Typer(
    name="casevoice",
    help="CaseVoice: secure interviews for child-safeguarding practice reviews.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("init")(init)
app.add_typer(keys_app, name="keys")
app.add_typer(case_app, name="case")
app.add_typer(invite_app, name="invite")
app.add_typer(audit_app, name="audit")


def _default_evidence_store() -> Path | None:
    """The bot's configured evidence store, for a reviewer working on the same machine."""
    try:
        return load_settings().evidence_path
    except CaseVoiceError:
        return None


app.add_typer(
    build_review_app(default_store=_default_evidence_store),
    name="review",
    help="The reviewer's side: keys, pull, verify; grid, export, chronology, quotes, bundle.",
)


def _serve(what: str, main: Callable[[Settings], Coroutine[Any, Any, None]]) -> None:
    """Run a long-lived part (the bot, the workers): logs at the configured level, and any
    failure ends as one line, never a traceback that could carry SQL parameters."""
    import asyncio

    from bot.cli_support import explain, fail, settings_or_fail

    settings = settings_or_fail()
    configure_logging(settings.log_level)
    try:
        asyncio.run(main(settings))
    except Exception as exc:  # noqa: BLE001 - see the docstring
        fail(
            explain(exc, telegram_api=settings.telegram_api)
            or f"the {what} stopped on an unexpected {type(exc).__name__}; run it again with "
            "CASEVOICE_LOG_LEVEL=DEBUG and read the log above this line"
        )


@app.command("run")
def run_command() -> None:
    """Run the bot (long polling) against CASEVOICE_TELEGRAM_API."""
    from bot.app import run_bot

    _serve("bot", run_bot)


@app.command("worker")
def worker_command() -> None:
    """Run transcription workers only (they share the database and keys with the bot)."""
    from bot.app import run_worker

    _serve("worker", run_worker)


@app.command("sandbox")
def sandbox_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8081, help="Port to listen on"),
) -> None:
    """Start the local Telegram Bot API sandbox (for tests and rehearsal)."""
    import asyncio

    from bot.cli_support import fail, listen_failure
    from sandbox.server import run_sandbox

    try:
        asyncio.run(run_sandbox(host, port))
    except OSError as exc:
        fail(listen_failure(host, port, exc))


app.command("rehearse")(rehearse)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG."),
) -> None:
    # Command output is for people; the log says only what went wrong.
    configure_logging("DEBUG" if verbose else None, default="WARNING")


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        # Click's usage box is many lines; a script wants one. The help is one flag away.
        format_message = getattr(exc, "format_message", None)
        message = " ".join((format_message() if format_message else str(exc)).split())
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        typer.echo(f"error: {message}{hint}", err=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except (KeyboardInterrupt, typer.Abort):
        logging.getLogger("casevoice").info("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
