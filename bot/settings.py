"""Configuration from the environment (prefix ``CASEVOICE_``) and an optional ``.env`` file.

A wrong or missing setting becomes one ``ConfigurationError`` line naming the variable, never a
traceback. Secrets are ``SecretStr`` so they never print by accident.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import sqlite_url
from storage.errors import ConfigurationError

ENV_PREFIX = "CASEVOICE_"
_AGE_SECRET = re.compile(r"AGE-SECRET-KEY-1", re.IGNORECASE)
_BOT_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")  # fullmatch: `$` accepts "name\n"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Path("./casevoice-data")
    database_url: str | None = Field(default=None, description="default: SQLite in data dir")
    bot_token: SecretStr | None = None
    telegram_api: str = "https://api.telegram.org"
    evidence_store: Path | None = Field(default=None, description="default: <data dir>/evidence")
    bot_username: str | None = None
    key_file: Path | None = Field(default=None, description="default: <data dir>/keys.json")
    kek: SecretStr | None = None
    kek_previous: SecretStr | None = None
    hmac_key: SecretStr | None = None
    signing_key_file: Path | None = Field(
        default=None, description="default: <data dir>/signing-key.pem"
    )
    whisper_model: str = "base"
    whisper_threads: int = Field(default=1, ge=1, le=64)
    transcription_workers: int = Field(default=2, ge=0, le=64)
    max_voice_seconds: int = Field(default=600, ge=5, le=7200)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _no_reviewer_secrets_in_input(cls, data: Any) -> Any:
        # Before any field check, so a secret key pasted into, say, CASEVOICE_BOT_USERNAME is
        # reported as what it is rather than as a malformed username.
        if isinstance(data, dict):
            for name, value in data.items():
                raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
                if _AGE_SECRET.search(raw):
                    raise _secret_error(str(name))
        return data

    @field_validator("telegram_api")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.lstrip("@")
        if not _BOT_USERNAME.fullmatch(value):
            raise ValueError("must be a Telegram username like casevoice_bot")
        return value

    @property
    def db_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir / "casevoice.db")

    @property
    def evidence_path(self) -> Path:
        return self.evidence_store or self.data_dir / "evidence"

    @property
    def key_path(self) -> Path:
        return self.key_file or self.data_dir / "keys.json"

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key_file or self.data_dir / "signing-key.pem"

    @property
    def shred_ledger_path(self) -> Path:
        return self.data_dir / "shredded-keys.log"

    def refuse_reviewer_secrets(self) -> None:
        """The reviewer's age private key must never be configured on the bot side."""
        for name, value in self:
            raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            if _AGE_SECRET.search(raw):
                raise _secret_error(name)


def _secret_error(name: str) -> ConfigurationError:
    # ConfigurationError is not a ValueError: pydantic lets it through unwrapped.
    return ConfigurationError(
        f"{ENV_PREFIX}{name.upper()} contains an age secret key; the reviewer's "
        "private key must never be on the bot's machine"
    )


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise one ``ConfigurationError`` naming the bad variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ENV_PREFIX + "_".join(str(part) for part in first["loc"]).upper()
        raise ConfigurationError(f"{name}: {first['msg']}") from None
    settings.refuse_reviewer_secrets()
    return settings
