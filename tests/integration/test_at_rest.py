"""The promise: nothing on the bot's disks or in a database dump is readable without the keys.

A canary answer, a canary case title, a canary participant label and a raw Telegram user id go in
through the real storage layer; then every file of the data dir (SQLite main file, ``-wal``,
``-shm``, the key file, the ledger) and a ``pg_dump`` are searched for every shape of them. A
positive control plants the same kind of marker in the clear and proves the search would have
found it.
"""

from __future__ import annotations

import secrets
import struct
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine, session_factory
from storage.tables import Participant
from tests.conftest import Storage
from tests.integration.scenario import (
    canary,
    files_under,
    leaks,
    pg_dump,
    read_answer,
    write_story,
)


def _id_forms(telegram_user_id: int) -> list[bytes]:
    return [
        str(telegram_user_id).encode(),
        str(telegram_user_id).encode("utf-16-le"),
        struct.pack(">q", telegram_user_id),
        struct.pack("<q", telegram_user_id),
    ]


def _assert_nothing_readable(blobs: dict[str, bytes], secrets_: list[str], user_id: int) -> None:
    for where, blob in blobs.items():
        for secret in secrets_:
            assert not leaks(blob, secret), f"{secret} readable in {where}: {leaks(blob, secret)}"
        for form in _id_forms(user_id):
            assert form not in blob, f"raw Telegram user id in {where}"


async def test_given_canaries_written_through_storage_then_no_file_or_dump_holds_them(
    storage: Storage, data_dir: Path
) -> None:
    answer, title, label = canary("answer"), canary("title"), canary("label")
    user_id = 7_000_000_000 + secrets.randbelow(999_999_999)
    written = await write_story(
        storage,
        ref="LCSPR-2026-01",
        title=title,
        label=label,
        answer=answer,
        telegram_user_id=user_id,
    )
    is_sqlite = storage.url.startswith("sqlite")

    if is_sqlite:
        # While the engine is open the WAL holds the newest pages: search it now, as it is.
        open_files = files_under(data_dir)
        names = {path.name for path in open_files}
        assert {"casevoice.db", "casevoice.db-wal", "casevoice.db-shm"} <= names, names
        assert len(open_files[data_dir / "casevoice.db-wal"]) > 0
        _assert_nothing_readable(
            {str(p): b for p, b in open_files.items()}, [answer, title, label], user_id
        )
    await storage.engine.dispose()

    blobs = {str(p): b for p, b in files_under(data_dir).items()}
    if not is_sqlite:
        database = make_url(storage.url).database
        assert database is not None
        blobs["pg_dump"] = pg_dump(database)
    else:
        assert str(data_dir / "casevoice.db") in blobs
    assert str(data_dir / "keys.json") in blobs
    _assert_nothing_readable(blobs, [answer, title, label], user_id)

    # The data is there and readable with the keys: the search above was not of an empty store.
    assert await read_answer(storage, written) == answer
    async with storage.sessions() as session:
        participant = await session.get(Participant, written.redeemed.participant_id)
        assert participant is not None
        assert participant.user_hash == storage.vault.user_hash(user_id)


async def test_given_a_marker_stored_in_the_clear_then_the_search_finds_it(
    storage: Storage, data_dir: Path
) -> None:
    """Positive control: the same search catches plaintext in a text and in a binary column."""
    in_text, in_bytes = canary("control-text"), canary("control-bytes")
    async with storage.sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO data_keys (id, kek_id, wrapped, purpose, created_at) "
                "VALUES (:id, :kek, :wrapped, 'control', CURRENT_TIMESTAMP)"
            ),
            {"id": secrets.token_hex(16), "kek": in_text, "wrapped": in_bytes.encode()},
        )
    await storage.engine.dispose()

    if storage.url.startswith("sqlite"):
        blob = b"".join(files_under(data_dir).values())
    else:
        database = make_url(storage.url).database
        assert database is not None
        blob = pg_dump(database)

    assert "utf-8" in leaks(blob, in_text)
    assert leaks(blob, in_bytes)


async def test_given_a_shredded_row_on_sqlite_then_secure_delete_leaves_no_trace(
    storage: Storage, data_dir: Path
) -> None:
    """``secure_delete=ON`` zeroes deleted rows, so a destroyed data key is not in free pages."""
    if not storage.url.startswith("sqlite"):
        return  # PostgreSQL's dead tuples are its own business (VACUUM); a dump never has them
    engine = create_engine(storage.url)
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in (
                    "journal_mode",
                    "synchronous",
                    "secure_delete",
                    "foreign_keys",
                    "busy_timeout",
                )
            }
    finally:
        await engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "secure_delete": 1,
        "foreign_keys": 1,
        "busy_timeout": 10000,
    }

    marker = canary("deleted").encode()
    sessions = session_factory(storage.engine)
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO data_keys (id, kek_id, wrapped, purpose, created_at) "
                "VALUES ('00112233445566778899aabbccddeeff', 'k', :w, 'x', CURRENT_TIMESTAMP)"
            ),
            {"w": marker},
        )
    async with sessions() as session, session.begin():
        await session.execute(text("DELETE FROM data_keys WHERE purpose = 'x'"))
    await storage.engine.dispose()

    assert marker not in b"".join(files_under(data_dir).values())
