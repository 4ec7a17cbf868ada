"""Settings: defaults, one line naming a bad variable, and no reviewer secrets on the bot side."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import load_settings
from storage.errors import ConfigurationError

SECRET_KEY = "AGE-SECRET-KEY-1" + "Q" * 58


@pytest.fixture(autouse=True)
def _isolated(clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_given_nothing_set_then_documented_defaults() -> None:
    settings = load_settings()

    assert settings.data_dir == Path("casevoice-data")
    assert settings.db_url == f"sqlite+aiosqlite:///{Path('casevoice-data') / 'casevoice.db'}"
    assert settings.telegram_api == "https://api.telegram.org"
    assert settings.evidence_path == Path("casevoice-data") / "evidence"
    assert settings.key_path == Path("casevoice-data") / "keys.json"
    assert settings.bot_username is None and settings.bot_token is None


def test_given_env_and_dotenv_then_both_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("CASEVOICE_BOT_USERNAME=@from_dotenv_bot\n")
    monkeypatch.setenv("CASEVOICE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("CASEVOICE_TELEGRAM_API", "http://127.0.0.1:8081/")

    settings = load_settings()

    assert settings.bot_username == "from_dotenv_bot"
    assert settings.data_dir == tmp_path / "d"
    assert settings.telegram_api == "http://127.0.0.1:8081"


def test_given_a_bot_token_then_it_never_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "123456789:AAH" + "x" * 32
    monkeypatch.setenv("CASEVOICE_BOT_TOKEN", token)

    settings = load_settings()

    assert settings.bot_token is not None and settings.bot_token.get_secret_value() == token
    assert token not in repr(settings) and token not in str(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CASEVOICE_LOG_LEVEL", "LOUD"),
        ("CASEVOICE_TELEGRAM_API", "api.telegram.org"),
        ("CASEVOICE_BOT_USERNAME", "not a username"),
        ("CASEVOICE_WHISPER_THREADS", "0"),
        ("CASEVOICE_MAX_VOICE_SECONDS", "lots"),
    ],
)
def test_given_a_bad_setting_then_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError) as info:
        load_settings()

    message = str(info.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


@pytest.mark.parametrize(
    "variable",
    [
        "CASEVOICE_BOT_USERNAME",
        "CASEVOICE_WHISPER_MODEL",
        "CASEVOICE_BOT_TOKEN",
        "CASEVOICE_DATA_DIR",
        "CASEVOICE_KEK",
    ],
)
def test_given_an_age_secret_key_in_any_setting_then_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    pasted = SECRET_KEY.lower() if variable.endswith("DIR") else SECRET_KEY  # any case
    monkeypatch.setenv(variable, f"prefix {pasted}")

    with pytest.raises(ConfigurationError) as info:
        load_settings()

    message = str(info.value)
    assert message.startswith(variable + " ") and "secret key" in message
    assert SECRET_KEY not in message and SECRET_KEY.lower() not in message
    assert "\n" not in message
