"""Crypto-shredding, re-shredding a restored backup, and KEK rotation, on both databases."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.cli_admin import rotate_keks
from storage.crypto import FieldRef
from storage.db import create_engine, session_factory
from storage.errors import KeyShreddedError, KeyUnavailableError
from storage.keyfile import FileKeyProvider
from storage.keyring import Keyring
from storage.tables import Answer, AnswerVersion, Case, DataKeyRow, Participant, ShreddedKey
from storage.vault import Vault
from tests.conftest import PG_HOST, PG_PORT, PG_USER, Storage, fresh_pg_database
from tests.integration.scenario import Written, canary, read_answer, write_story


async def _story(storage: Storage, ref: str = "LCSPR-2026-02") -> tuple[Written, str]:
    answer = canary("answer")
    written = await write_story(
        storage,
        ref=ref,
        title=canary("title"),
        label=canary("label"),
        answer=answer,
        telegram_user_id=555_000_111,
    )
    return written, answer


async def _shred(storage: Storage, key_id: str) -> None:
    async with storage.sessions() as session, session.begin():
        assert await storage.keyring.shred(session, [key_id], "withdrawn") == 1


async def test_given_an_interview_key_shredded_then_its_data_is_gone_for_good(
    storage: Storage,
) -> None:
    written, answer = await _story(storage)
    assert await read_answer(storage, written) == answer

    await _shred(storage, written.dek_id)

    with pytest.raises(KeyShreddedError):
        await read_answer(storage, written)
    async with storage.sessions() as session:
        assert await session.get(DataKeyRow, written.dek_id) is None
        shredded = await session.get(ShreddedKey, written.dek_id)
        assert shredded is not None and shredded.reason == "withdrawn"
        participant = await session.get(Participant, written.redeemed.participant_id)
        assert participant is not None and participant.label_ct is not None
        with pytest.raises(KeyShreddedError):  # the label went with the interview's key
            await storage.vault.open_text(
                session,
                written.dek_id,
                FieldRef("participants", participant.id, "label"),
                participant.label_ct,
            )
        version = (await session.execute(select(AnswerVersion))).scalars().one()
        with pytest.raises(KeyShreddedError):
            await storage.vault.open_text(
                session,
                written.dek_id,
                FieldRef("answer_versions", version.id, "text"),
                version.text_ct,
            )
        case = await session.get(Case, written.case_id)
        assert case is not None and case.title_ct is not None
        # Other keys are untouched: the case title still opens.
        await storage.vault.open_text(
            session, case.dek_id, FieldRef("cases", case.id, "title"), case.title_ct
        )
    assert written.dek_id in storage.ledger.key_ids()
    ledger_text = storage.ledger.path.read_text()
    assert answer not in ledger_text
    assert storage.ledger.path.stat().st_mode & 0o077 == 0

    # Shredding twice is harmless and keeps one ledger row in the table.
    async with storage.sessions() as session, session.begin():
        assert await storage.keyring.shred(session, [written.dek_id], "again") == 0
    async with storage.sessions() as session:
        rows = (await session.execute(select(ShreddedKey))).scalars().all()
        assert [row.key_id for row in rows] == [written.dek_id]


def _backup(url: str, data_dir: Path) -> Path:
    """Take a backup as an operator would: a file copy (SQLite) or pg_dump (PostgreSQL)."""
    if url.startswith("sqlite"):
        db = data_dir / "casevoice.db"
        wal = Path(f"{db}-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # all in the main file
        backup = data_dir.parent / "backup.db"
        shutil.copyfile(db, backup)
        return backup
    backup = data_dir.parent / "backup.sql"
    database = make_url(url).database
    assert database is not None
    subprocess.run(
        [
            "pg_dump",
            "-h",
            PG_HOST,
            "-p",
            str(PG_PORT),
            "-U",
            PG_USER,
            "--no-password",
            "-f",
            str(backup),
            database,
        ],
        check=True,
        timeout=60,
    )
    return backup


def _restore_sqlite(backup: Path, data_dir: Path) -> None:
    db = data_dir / "casevoice.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, db)


def _restore_pg(backup: Path, database: str) -> None:
    subprocess.run(
        [
            "psql",
            "-h",
            PG_HOST,
            "-p",
            str(PG_PORT),
            "-U",
            PG_USER,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            database,
            "-f",
            str(backup),
        ],
        check=True,
        timeout=60,
        capture_output=True,
    )


async def test_given_a_backup_restored_after_shredding_when_reshredded_then_unreadable_again(
    storage: Storage, data_dir: Path
) -> None:
    written, answer = await _story(storage)
    await storage.engine.dispose()
    backup = await asyncio.to_thread(_backup, storage.url, data_dir)
    await _shred(storage, written.dek_id)
    await storage.engine.dispose()

    if storage.url.startswith("sqlite"):
        await asyncio.to_thread(_restore_sqlite, backup, data_dir)
        await _check_restore_then_reshred(storage, storage.url, written, answer)
        return
    async with fresh_pg_database() as restored:
        await asyncio.to_thread(_restore_pg, backup, restored.name)
        await _check_restore_then_reshred(storage, restored.url, written, answer)


async def _check_restore_then_reshred(
    storage: Storage, url: str, written: Written, answer: str
) -> None:
    engine = create_engine(url)
    try:
        restored = Storage(
            **{
                **storage.__dict__,
                "url": url,
                "engine": engine,
                "sessions": session_factory(engine),
            }
        )
        # The restored backup brought the destroyed key back: this is what reshred is for.
        assert await read_answer(restored, written) == answer

        async with restored.sessions() as session, session.begin():
            assert await restored.keyring.reshred(session) == 1
        async with restored.sessions() as session, session.begin():
            assert await restored.keyring.reshred(session) == 0  # idempotent

        with pytest.raises(KeyShreddedError):
            await read_answer(restored, written)
        async with restored.sessions() as session:
            assert await session.get(DataKeyRow, written.dek_id) is None
            assert await session.get(ShreddedKey, written.dek_id) is not None
            case = await session.get(Case, written.case_id)
            assert case is not None and await session.get(DataKeyRow, case.dek_id) is not None
    finally:
        await engine.dispose()


async def _everything_opens(
    storage: Storage, written: Written, answer: str, provider: FileKeyProvider
) -> None:
    vault = Vault(Keyring(provider))
    async with storage.sessions() as session:
        answer_row = await session.get(Answer, written.answer_id)
        assert answer_row is not None and answer_row.text_ct is not None
        assert (
            await vault.open_text(
                session,
                written.dek_id,
                FieldRef("answers", answer_row.id, "text"),
                answer_row.text_ct,
            )
            == answer
        )
        for case in (await session.execute(select(Case))).scalars():
            assert case.title_ct is not None
            await vault.open_text(
                session, case.dek_id, FieldRef("cases", case.id, "title"), case.title_ct
            )
        for participant in (await session.execute(select(Participant))).scalars():
            assert participant.label_ct is not None
            await vault.open_text(
                session,
                written.dek_id,
                FieldRef("participants", participant.id, "label"),
                participant.label_ct,
            )


async def test_given_data_when_keks_rotated_then_everything_decrypts_without_the_old_kek(
    storage: Storage, data_dir: Path
) -> None:
    written, answer = await _story(storage)
    old_id, old_kek = storage.provider.active_kek()
    old_b64 = json.loads((data_dir / "keys.json").read_text())["keks"][old_id]
    hmac_before = storage.provider.hmac_key()

    result = await rotate_keks(
        FileKeyProvider(data_dir / "keys.json"), storage.sessions, storage.ledger
    )

    assert result.rewrapped == 2  # the case key and the interview key
    assert result.retired == [old_id]
    key_file = json.loads((data_dir / "keys.json").read_text())
    assert key_file["active_kek"] == result.new_kek != old_id
    assert list(key_file["keks"]) == [result.new_kek]
    assert old_id in key_file["retired"]
    assert old_b64 not in (data_dir / "keys.json").read_text()
    fresh = FileKeyProvider(data_dir / "keys.json")
    with pytest.raises(KeyUnavailableError):
        fresh.kek(old_id)
    assert fresh.hmac_key() == hmac_before
    async with storage.sessions() as session:
        rows = (await session.execute(select(DataKeyRow))).scalars().all()
        assert {row.kek_id for row in rows} == {result.new_kek}

    await _everything_opens(storage, written, answer, fresh)
    # A second rotation keeps working and still loses nothing.
    again = await rotate_keks(FileKeyProvider(data_dir / "keys.json"), storage.sessions)
    assert again.retired == [result.new_kek]
    await _everything_opens(storage, written, answer, FileKeyProvider(data_dir / "keys.json"))
    assert old_kek not in (data_dir / "keys.json").read_bytes()
