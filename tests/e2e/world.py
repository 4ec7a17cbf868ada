"""The world an end-to-end test runs in: the sandbox, the real bot as a process, its database.

`BotProcess` runs `casevoice run` as a separate process (stdout and stderr into one log file,
kept across restarts so the teardown can read everything the bot ever wrote). `World` holds what
a test needs and remembers the secrets it used (token, canary answers, raw Telegram ids) so the
teardown can check that none of them reached the log. It reads the bot's database (SQLite or
PostgreSQL, whichever the bot was given) through a plain SQLAlchemy engine, so one helper serves
both.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from sandbox.client import SandboxClient
from storage.db import sqlite_url
from storage.keyfile import FileKeyProvider
from storage.keyring import Keyring, ShredLedger
from storage.vault import Vault

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
CASEVOICE = str(VENV_BIN / "casevoice")
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz012"
BOT_USERNAME = "casevoice_sandbox_bot"
CASE_REF = "LCSPR-E2E-07"
CASE_TITLE = "Review of Quillon Marchbanks"  # a name: must never head a message
READY_TIMEOUT = 120.0  # a busy 2-core machine, with coverage measuring the bot, is slow to start


def bot_env(
    data_dir: Path, api_url: str | None = None, database_url: str | None = None
) -> dict[str, str]:
    """The developer's CASEVOICE_* settings never leak in; only what the test chooses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVOICE_")}
    env.update(
        CASEVOICE_DATA_DIR=str(data_dir),
        CASEVOICE_BOT_TOKEN=TOKEN,
        CASEVOICE_BOT_USERNAME=BOT_USERNAME,
        CASEVOICE_LOG_LEVEL="DEBUG",
        CASEVOICE_TRANSCRIPTION_WORKERS="0",
    )
    if api_url is not None:
        env["CASEVOICE_TELEGRAM_API"] = api_url
    if database_url is not None:
        env["CASEVOICE_DATABASE_URL"] = database_url
    return env


def database_url_of(env: dict[str, str]) -> str:
    """The database the bot with this environment uses (as its settings would choose it)."""
    return env.get("CASEVOICE_DATABASE_URL") or sqlite_url(
        Path(env["CASEVOICE_DATA_DIR"]) / "casevoice.db"
    )


def sync_engine(url: str) -> Engine:
    """A plain (blocking) engine on the bot's database: sqlite3 or psycopg in place of the
    bot's async drivers. Test code reads with it between awaits, as it would with a cursor."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return create_engine(parsed.set(drivername="sqlite"), connect_args={"timeout": 10})
    return create_engine(parsed.set(drivername="postgresql+psycopg"), pool_size=2)


def _bound(sql: str, params: tuple[Any, ...]) -> tuple[Any, dict[str, Any]]:
    """Tests write ``?`` placeholders (one SQL text for both databases); each becomes a bound
    parameter, so values are never spliced into the SQL."""
    pieces = sql.split("?")
    assert len(pieces) - 1 == len(params), f"{len(params)} parameter(s) for: {sql}"
    named = pieces[0] + "".join(f":p{i}{piece}" for i, piece in enumerate(pieces[1:]))
    return text(named), {f"p{i}": value for i, value in enumerate(params)}


class BotProcess:
    """`casevoice run` in its own process; start, SIGKILL, restart."""

    def __init__(self, env: dict[str, str], log_path: Path, client: SandboxClient) -> None:
        self.env = env
        self.log_path = log_path
        self.client = client
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        """Start and wait until the bot polls (its first getUpdates after this start)."""
        assert self.proc is None or self.proc.returncode is not None, "already running"
        polls_before = (await self.client.counts()).get("getUpdates", 0)
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            log.flush()
            self.proc = await asyncio.create_subprocess_exec(
                CASEVOICE,
                "run",
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
            )
        self.starts += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while (await self.client.counts()).get("getUpdates", 0) <= polls_before:
            if self.proc.returncode is not None:
                raise AssertionError(
                    f"the bot exited with {self.proc.returncode}:\n" + self.log_text()[-3000:]
                )
            if loop.time() > deadline:
                raise AssertionError(
                    "the bot did not start polling in time:\n" + self.log_text()[-3000:]
                )
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye, exactly like a crash or `kill -9`."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self, release_polls: Callable[[], None] | None = None) -> int | None:
        """SIGTERM and wait (a clean shutdown); SIGKILL if it hangs.

        `release_polls` answers the bot's waiting long poll at once, so it sees the signal now.
        """
        if self.proc is None or self.proc.returncode is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        if release_polls is not None:
            release_polls()
        try:
            return await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            await self.kill()
            return None

    async def restart(self) -> None:
        await self.kill()
        await self.start()

    def log_text(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )


def query(engine: Engine, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    statement, bound = _bound(sql, params)
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(statement, bound)]


def rows_at(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """One query on the database at `url` (an engine for just this look)."""
    engine = sync_engine(url)
    try:
        return query(engine, sql, *params)
    finally:
        engine.dispose()


@dataclass
class Invites:
    family: list[str]
    professional: list[str]


@dataclass
class World:
    data_dir: Path
    client: SandboxClient
    bot: BotProcess
    invites: Invites
    database_url: str
    identity: Path  # the reviewer's age identity, for `casevoice review pull`
    canaries: list[str] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    _engine: Engine | None = field(default=None, repr=False)

    # -- secrets the teardown looks for in the log --------------------------------------------

    def canary(self, words: str) -> str:
        """An answer text that must reach the read-back and never the log."""
        text = f"{words} cnry{secrets.token_hex(6)}"
        self.canaries.append(text)
        return text

    def user(self, user_id: int) -> int:
        self.user_ids.append(user_id)
        return user_id

    # -- the database, read directly ----------------------------------------------------------

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    @property
    def db_path(self) -> Path:
        """The SQLite file (for the tests that look at the bytes on disk)."""
        assert self.is_sqlite, "this test reads SQLite's files"
        return Path(str(make_url(self.database_url).database))

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = sync_engine(self.database_url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return query(self.engine, sql, *params)

    def scalar(self, sql: str, *params: Any) -> Any:
        rows = self.rows(sql, *params)
        return rows[0][0] if rows else None

    def write(self, sql: str, *params: Any) -> None:
        statement, bound = _bound(sql, params)
        with self.engine.begin() as conn:
            conn.execute(statement, bound)

    def user_hash(self, user_id: int) -> str:
        provider = FileKeyProvider(self.data_dir / "keys.json")
        vault = Vault(Keyring(provider, ShredLedger(self.data_dir / "shredded-keys.log")))
        return vault.user_hash(user_id)

    def interview_of(self, user_id: int) -> tuple[str, str]:
        """(interview id, state) of the person's interview."""
        rows = self.rows(
            "SELECT i.id, i.state FROM interviews i JOIN participants p ON p.id = i.participant_id"
            " WHERE p.user_hash = ?",
            self.user_hash(user_id),
        )
        assert len(rows) == 1, f"expected one interview for the user, found {len(rows)}"
        return rows[0][0], rows[0][1]

    def active_parts(self, interview_id: str) -> dict[str, int]:
        """Active answer parts per prompt id."""
        return dict(
            self.rows(
                "SELECT prompt_id, count(*) FROM answers"
                " WHERE interview_id = ? AND status = 'active' GROUP BY prompt_id",
                interview_id,
            )
        )

    def parts_from_message(self, interview_id: str, message_id: int) -> int:
        return int(
            self.scalar(
                "SELECT count(*) FROM answers WHERE interview_id = ? AND source_key = ?",
                interview_id,
                f"msg:{message_id}",
            )
        )

    def table_counts(self) -> dict[str, int]:
        tables = (
            "participants",
            "interviews",
            "answers",
            "answer_versions",
            "consent_records",
            "statements",
            "audio_blobs",
        )
        return {t: int(self.scalar(f"SELECT count(*) FROM {t}")) for t in tables}  # noqa: S608


def statement_of(world: World, user_id: int) -> tuple[str, str, str | None]:
    """(interview state, statement state, receipt code) once the statement was submitted."""
    interview_id, state = world.interview_of(user_id)
    rows = world.rows(
        "SELECT state, receipt_code FROM statements WHERE interview_id = ?", interview_id
    )
    assert len(rows) == 1, f"expected exactly one statement, found {len(rows)}"
    return state, rows[0][0], rows[0][1]


def invite_hash(world: World, code: str) -> str:
    provider = FileKeyProvider(world.data_dir / "keys.json")
    vault = Vault(Keyring(provider, ShredLedger(world.data_dir / "shredded-keys.log")))
    return vault.invite_hash(code)


def inbox_state(world: World, update_id: int) -> str | None:
    state: str | None = world.scalar("SELECT state FROM inbox WHERE update_id = ?", update_id)
    return state


class WriteLock:
    """Hold SQLite's write lock, as a long transaction elsewhere would: the bot's writes wait."""

    def __init__(self, world: World) -> None:
        assert world.is_sqlite, "SQLite's database-wide write lock"
        # The driver's own transaction handling off, so that BEGIN IMMEDIATE is ours to send.
        self.conn = world.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def __enter__(self) -> WriteLock:
        self.conn.exec_driver_sql("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.exec_driver_sql("ROLLBACK")
        self.conn.close()


async def settle(world: World, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Wait until Telegram holds nothing unacknowledged and the inbox nothing unhandled: every
    update's effects are committed. Replies go out after the commit, so a test that counts what
    was *sent* waits for a later exchange in the same chat instead (a chat's updates are
    handled, replies and all, one after the other)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await world.client.updates())["pending"] or world.scalar(
        "SELECT count(*) FROM inbox WHERE state = 'pending'"
    ):
        assert loop.time() < deadline, "updates are still pending"
        await asyncio.sleep(0.05)


async def delivered(world: World, update_id: int) -> bool:
    """Whether a getUpdates answer has handed `update_id` to the bot (the sandbox's log)."""
    return any(
        update_id in r.get("update_ids", ()) for r in await world.client.requests("getUpdates")
    )


async def until(check: Callable[[], object], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Poll `check` (plain or async) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


async def pending_ids(world: World) -> set[int]:
    return {u["update_id"] for u in (await world.client.updates())["pending"]}
