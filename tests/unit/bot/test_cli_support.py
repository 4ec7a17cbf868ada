"""`explain`: every expected failure becomes one line naming the thing and what to do."""

from __future__ import annotations

import errno

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetMe
from sqlalchemy.exc import OperationalError

from bot.cli_support import explain, listen_failure
from storage.errors import ConfigurationError

API = "https://api.example.test"
TELEGRAM = [
    (TelegramNetworkError(GetMe(), "Cannot connect"), "cannot reach the Bot API", "network"),
    (
        TelegramUnauthorizedError(GetMe(), "Unauthorized"),
        "refused CASEVOICE_BOT_TOKEN",
        "@BotFather",
    ),
    (TelegramNotFound(GetMe(), "Not Found"), "does not know this bot", "CASEVOICE_TELEGRAM_API"),
    (TelegramServerError(GetMe(), "Bad Gateway"), "keeps failing", "try again"),
    (TelegramBadRequest(GetMe(), "Bad Request"), "refused a request", "CASEVOICE_LOG_LEVEL"),
]


@pytest.mark.parametrize(("exc", "what", "todo"), TELEGRAM)
def test_bot_api_failures_name_the_address_and_what_to_do(
    exc: Exception, what: str, todo: str
) -> None:
    line = explain(exc, telegram_api=API)

    assert line is not None and "\n" not in line
    assert what in line and todo in line and API in line


@pytest.mark.parametrize(
    ("exc", "todo"),
    [
        (PermissionError(errno.EACCES, "Permission denied", "/data/keys.json"), "permissions"),
        (OSError(errno.ENOSPC, "No space left on device", "/data"), "free some disk space"),
        (OSError(errno.EADDRINUSE, "Address already in use"), "another port"),
        (OSError(errno.EIO, "Input/output error", "/data/x"), "check the path"),
        (
            ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            "CASEVOICE_DATABASE_URL",
        ),
    ],
)
def test_disk_and_network_failures_say_what_to_do(exc: OSError, todo: str) -> None:
    line = explain(exc)

    assert line is not None and todo in line
    assert exc.strerror is not None and exc.strerror in line
    assert line != type(exc).__name__


def test_a_database_error_never_quotes_its_text() -> None:
    """SQLAlchemy's message can carry SQL parameters (content): only the type is named."""
    exc = OperationalError("INSERT INTO answers VALUES (?)", ("my secret answer",), Exception("x"))

    line = explain(exc)

    assert line is not None and "my secret answer" not in line
    assert "CASEVOICE_DATABASE_URL" in line and "Nothing was changed" in line


def test_our_own_errors_keep_their_line_and_bugs_are_not_explained_away() -> None:
    assert explain(ConfigurationError("CASEVOICE_X is wrong")) == "CASEVOICE_X is wrong"
    assert explain(ZeroDivisionError()) is None


def test_a_listen_failure_names_the_address() -> None:
    in_use = listen_failure("127.0.0.1", 8088, OSError(errno.EADDRINUSE, "in use"))
    denied = listen_failure("0.0.0.0", 80, OSError(errno.EACCES, "Permission denied"))  # noqa: S104

    assert in_use == (
        "cannot listen on 127.0.0.1:8088 (it is in use); choose another port with --port"
    )
    assert "0.0.0.0:80 (Permission denied)" in denied
