"""Rehearsal data stays apart: its own folder, settings and environment; one rehearsal at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rehearse import TOKEN, RehearsalError, child_env, fresh_root, rehearsal_lock
from bot.rehearse import rehearsal_settings as confined
from bot.settings import load_settings


@pytest.fixture(autouse=True)
def _isolated(clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_the_rehearsal_bot_gets_only_rehearsal_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an operator configured for a real deployment
    monkeypatch.setenv("CASEVOICE_DATABASE_URL", "postgresql+asyncpg://cv@db/real")
    monkeypatch.setenv("CASEVOICE_KEK", "a" * 44)
    monkeypatch.setenv("CASEVOICE_HMAC_KEY", "b" * 44)
    monkeypatch.setenv("CASEVOICE_BOT_TOKEN", "999:real-token")
    monkeypatch.setenv("CASEVOICE_REDIS_URL", "redis://cache")
    base = load_settings(data_dir=tmp_path / "data")
    root = tmp_path / "data" / "rehearsal"

    # When the rehearsal's settings and the bot's environment are made
    settings = confined(base, root, "tiny.en")
    env = child_env(settings, "http://127.0.0.1:9999")

    # Then everything points into the rehearsal folder and at the sandbox
    assert settings.db_url == f"sqlite+aiosqlite:///{root / 'casevoice.db'}"
    assert settings.key_path == root / "keys.json" and settings.kek is None
    assert settings.evidence_path == root / "evidence"
    assert env["CASEVOICE_DATABASE_URL"] == settings.db_url
    assert env["CASEVOICE_TELEGRAM_API"] == "http://127.0.0.1:9999"
    assert env["CASEVOICE_BOT_TOKEN"] == TOKEN
    assert env["CASEVOICE_WHISPER_MODEL"] == "tiny.en"
    assert int(env["CASEVOICE_TRANSCRIPTION_WORKERS"]) >= 1
    for name in ("CASEVOICE_KEK", "CASEVOICE_HMAC_KEY", "CASEVOICE_REDIS_URL"):
        assert name not in env
    assert "999:real-token" not in env.values()


def test_a_fresh_rehearsal_keeps_only_the_whisper_model(tmp_path: Path) -> None:
    root = tmp_path / "rehearsal"
    (root / "models" / "whisper-base").mkdir(parents=True)
    (root / "evidence").mkdir()
    (root / "casevoice.db").write_bytes(b"old")
    with rehearsal_lock(root):
        fresh_root(root)
    assert sorted(p.name for p in root.iterdir()) == [".lock", "models"]
    assert (root / "models" / "whisper-base").is_dir()


def test_a_second_rehearsal_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "rehearsal"
    with (
        rehearsal_lock(root),
        pytest.raises(RehearsalError, match="another rehearsal"),
        rehearsal_lock(root),
    ):
        pass
