"""Migrations: up, down to nothing, up again ("stairway"); the result is exactly the models."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.tables  # noqa: F401 - registers every table on SQLModel.metadata
from storage.db import alembic_config, create_engine, migrate

APP_TABLES = {table.name for table in SQLModel.metadata.sorted_tables}


async def downgrade(url: str, revision: str) -> None:
    """Only the tests go down: the product upgrades (``storage.db.migrate``)."""
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _diff(url: str) -> list[Any]:
    engine = create_engine(url)

    def compare(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


def _revisions(url: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def test_given_an_empty_database_when_migrated_then_schema_equals_the_models(
    db_url: str,
) -> None:
    await migrate(db_url)

    assert await _tables(db_url) >= APP_TABLES
    assert {"answers", "data_keys", "audit_events", "invites", "shredded_keys"} <= APP_TABLES
    assert await _diff(db_url) == []


async def test_given_each_revision_when_up_down_up_then_clean_every_time(db_url: str) -> None:
    """The stairway: every step upgrades, downgrades fully and upgrades again."""
    revisions = _revisions(db_url)
    assert revisions, "no migrations found"
    previous = "base"
    for revision in revisions:
        await migrate(db_url, revision)
        await downgrade(db_url, previous)
        await migrate(db_url, revision)
        previous = revision

    await downgrade(db_url, "base")
    assert await _tables(db_url) <= {"alembic_version"}
    await migrate(db_url)
    assert await _tables(db_url) >= APP_TABLES
    assert await _diff(db_url) == []


async def test_given_a_migrated_database_when_migrated_again_then_nothing_changes(
    db_url: str,
) -> None:
    await migrate(db_url)
    await migrate(db_url)

    assert await _diff(db_url) == []


async def test_given_a_schema_that_drifted_then_the_comparison_notices(db_url: str) -> None:
    """The no-diff assertions above can fail: a dropped index shows up as a difference."""
    await migrate(db_url)
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP INDEX ix_data_keys_kek_id")
    finally:
        await engine.dispose()

    diff = await _diff(db_url)

    assert [d[0] for d in diff] == ["add_index"]
