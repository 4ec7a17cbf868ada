"""Shared fixtures: a data directory with a real key file, and real databases.

``db_url`` runs a test on SQLite (a file in the test's data dir) and on the PostgreSQL server at
``CASEVOICE_TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``; trust
auth; the database named there is only used to create others), each PostgreSQL test in a fresh
database created for it and dropped after. ``./scripts/test`` starts a throwaway server when
none answers there. If PostgreSQL cannot be reached the test FAILS, unless
``CASEVOICE_SKIP_POSTGRES=1`` says it may be skipped: a silently skipped database is a database
nobody tested (and ``./scripts/test`` fails on any skip not in tests/allowed-skips.txt).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import AuditLog
from storage.db import create_engine, migrate, session_factory, sqlite_url
from storage.keyfile import FileKeyProvider
from storage.keyring import Keyring, ShredLedger
from storage.vault import Vault
from tests import skip_policy

TEST_DATABASE_URL_ENV = "CASEVOICE_TEST_DATABASE_URL"
PG_SERVER = make_url(
    os.environ.get(TEST_DATABASE_URL_ENV) or "postgresql://postgres@127.0.0.1:5432/test"
)
# The parts, for command-line tools (pg_dump, psql) that take them one by one.
PG_HOST = PG_SERVER.host or "127.0.0.1"
PG_PORT = PG_SERVER.port or 5432
PG_USER = PG_SERVER.username or "postgres"
PG_ADMIN_DB = PG_SERVER.database or "postgres"


def _postgres_unreachable(reason: str) -> None:
    if os.environ.get("CASEVOICE_SKIP_POSTGRES") == "1":
        pytest.skip(f"PostgreSQL unreachable ({reason}); CASEVOICE_SKIP_POSTGRES=1")
    pytest.fail(
        f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable ({reason}). Run the tests with "
        f"./scripts/test (it starts a throwaway server), point {TEST_DATABASE_URL_ENV} at one, "
        "or set CASEVOICE_SKIP_POSTGRES=1 to skip the PostgreSQL half.",
        pytrace=False,
    )


async def _admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(
            PG_SERVER.set(drivername="postgresql").render_as_string(hide_password=False),
            timeout=5,
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        _postgres_unreachable(type(exc).__name__)
        raise  # unreachable: skip/fail raise


@dataclass(frozen=True)
class PgDatabase:
    name: str

    @property
    def url(self) -> str:
        return PG_SERVER.set(drivername="postgresql+asyncpg", database=self.name).render_as_string(
            hide_password=False
        )


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[PgDatabase]:
    """A brand-new, empty PostgreSQL database; dropped afterwards."""
    name = f"casevoice_test_{uuid.uuid4().hex[:16]}"
    admin = await _admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield PgDatabase(name)
    finally:
        admin = await _admin_connection()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def key_file(data_dir: Path) -> Path:
    FileKeyProvider.create(data_dir / "keys.json")
    return data_dir / "keys.json"


@pytest.fixture
def provider(key_file: Path) -> FileKeyProvider:
    return FileKeyProvider(key_file)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file in the data dir, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield sqlite_url(data_dir / "casevoice.db")
        return
    async with fresh_pg_database() as pg:
        yield pg.url


@pytest.fixture
async def migrated_url(db_url: str) -> str:
    await migrate(db_url)
    return db_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@dataclass
class Storage:
    """The real storage stack over one database, as the container builds it."""

    data_dir: Path
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    provider: FileKeyProvider
    ledger: ShredLedger
    keyring: Keyring
    vault: Vault
    audit: AuditLog


@pytest.fixture
def storage(
    data_dir: Path,
    migrated_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    provider: FileKeyProvider,
) -> Storage:
    ledger = ShredLedger(data_dir / "shredded-keys.log")
    keyring = Keyring(provider, ledger)
    return Storage(
        data_dir=data_dir,
        url=migrated_url,
        engine=engine,
        sessions=sessions,
        provider=provider,
        ledger=ledger,
        keyring=keyring,
        vault=Vault(keyring),
        audit=AuditLog(provider.hmac_key()),
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No CASEVOICE_* variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("CASEVOICE_") and name not in {
            "CASEVOICE_SKIP_POSTGRES",
            TEST_DATABASE_URL_ENV,
        }:
            monkeypatch.delenv(name)
    yield


def pytest_configure(config: pytest.Config) -> None:
    skip_policy.register(config)  # CASEVOICE_STRICT_SKIPS=1: an unlisted skip fails the run
    # SQLModel nags on every ``session.execute``; the services use it on purpose (scalars()).
    config.addinivalue_line(
        "filterwarnings", "ignore:(?s).*You probably want to use `session.exec:DeprecationWarning"
    )
