"""Database engines and sessions (SQLAlchemy 2 async) for SQLite and PostgreSQL.

SQLite is the embedded default. Every connection gets the pragmas that make it safe for
evidence: WAL (readers never block the writer), ``synchronous=FULL`` (a commit survives power
loss), ``secure_delete`` (deleted rows, e.g. a shredded key, are overwritten, not left in free
pages) and foreign keys.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA secure_delete=ON",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the driver so that we can BEGIN IMMEDIATE (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


READ_ONLY = "casevoice_read_only"


def _on_sqlite_begin(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    # another writer got there first (no busy wait is possible then). Taking the write lock
    # up front makes concurrent units of work queue behind busy_timeout instead. Sessions
    # opened with ``reading()`` only read: a deferred BEGIN lets them run beside the writer
    # (WAL readers never block and are never blocked).
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_WRITE_GATES: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def create_engine(url: str) -> AsyncEngine:
    """An async engine for a ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URL."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
        raise ConfigurationError("CASEVOICE_DATABASE_URL is not a valid database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            parsed = parsed.set(drivername="sqlite+aiosqlite")
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
        _WRITE_GATES[engine.sync_engine] = asyncio.Lock()
        return engine
    if backend == "postgresql":
        if parsed.drivername != "postgresql+asyncpg":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        return create_async_engine(parsed, pool_pre_ping=True, pool_size=10)
    raise ConfigurationError(
        f"CASEVOICE_DATABASE_URL: unsupported database {backend!r} (use SQLite or PostgreSQL)"
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def _gate(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    bind = sessions.kw.get("bind")
    return _WRITE_GATES.get(bind.sync_engine) if isinstance(bind, AsyncEngine) else None


@asynccontextmanager
async def writing(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work that writes: commit on success, roll back on any error.

    SQLite has one writer at a time. Its own busy handler wakes waiting writers by polling with
    growing sleeps (1-100 ms), which leaves the lock idle while they sleep; within one process a
    FIFO asyncio lock hands it over at once and in arrival order. Other processes (a
    ``casevoice worker``, the CLI) still wait on busy_timeout as before. PostgreSQL needs none.
    """
    gate = _gate(sessions)
    if gate is None:
        async with sessions() as session, session.begin():
            yield session
        return
    async with gate, sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session that only reads: on SQLite it never takes (or waits for) the write lock."""
    async with sessions() as session:
        await session.connection(execution_options={READ_ONLY: True})
        yield session


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would eat '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``. Alembic's async env runs its own loop: use a thread."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)
