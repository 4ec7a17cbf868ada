"""Logging set-up: ids, durations and exception types only.

Our own code never logs content. As a second line of defence a filter on every handler masks
anything shaped like a bot token (libraries may put a request URL in an error message), and the
level of chatty libraries is capped so their DEBUG output (which may contain payloads) never
reaches the log even when CaseVoice itself runs at DEBUG.
"""

from __future__ import annotations

import logging
import os
import re

TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# Libraries whose DEBUG output may include request or response bodies.
# SQLAlchemy's engine logs statements *with parameters* at INFO: never let that through.
_QUIET = (
    "aiogram.event",
    "aiohttp.access",
    "aiosqlite",
    "asyncio",
    "sqlalchemy",
    "alembic",
    "faster_whisper",
    "httpx",
    "urllib3",
    "PIL",
    "asyncpg",
)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_SHAPE.search(message):
            record.msg = TOKEN_SHAPE.sub("<bot-token>", message)
            record.args = None
        return True


def configure_logging(level: str | None = None, default: str = "INFO") -> None:
    level = (level or os.environ.get("CASEVOICE_LOG_LEVEL") or default).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        level = default  # the settings check names the bad value in one line
    root = logging.getLogger()
    if not any(getattr(h, "_casevoice", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactTokens())
        handler._casevoice = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
