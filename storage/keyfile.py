"""Key providers: where the key-encryption keys (KEKs) and the HMAC key come from.

The default is a JSON key file (mode 0600) in the data directory, *outside* the database, made by
``casevoice init``. A stolen database or backup is useless without it. Deployments that keep
secrets elsewhere set ``CASEVOICE_KEK`` (and ``CASEVOICE_HMAC_KEY``) instead; a KMS or Vault
provider only needs to satisfy ``KeyProvider``.

If keys cannot be loaded the provider raises ``KeyUnavailableError`` and the caller stores
nothing: fail closed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from pathlib import Path
from typing import Protocol

from storage.crypto import KEY_LEN
from storage.errors import ConfigurationError, KeyUnavailableError
from storage.files import atomic_write

KEYFILE_FORMAT = "casevoice-keys"


class KeyProvider(Protocol):
    def active_kek(self) -> tuple[str, bytes]:
        """The KEK new data keys are wrapped with: (kek id, 32 bytes)."""
        ...

    def kek(self, kek_id: str) -> bytes:
        """A KEK by id; ``KeyUnavailableError`` if unknown or retired."""
        ...

    def hmac_key(self) -> bytes:
        """The secret for keyed hashes (Telegram ids, invite codes, audit chain)."""
        ...


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{what} is not valid base64") from None
    if len(raw) != KEY_LEN:
        raise ConfigurationError(f"{what} must be {KEY_LEN} bytes (base64), got {len(raw)}")
    return raw


class FileKeyProvider:
    """KEKs and the HMAC key in a 0600 JSON file. Supports rotation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, object] | None = None
        self._stamp: tuple[int, int, int] | None = None

    # -- creation and rotation -------------------------------------------------

    @classmethod
    def create(cls, path: Path) -> FileKeyProvider:
        """Make a new key file; refuses to overwrite one (losing it loses every answer)."""
        if path.exists():
            raise ConfigurationError(f"key file {path} already exists")
        kek_id = secrets.token_hex(8)
        data = {
            "format": KEYFILE_FORMAT,
            "version": 1,
            "active_kek": kek_id,
            "keks": {kek_id: _b64(secrets.token_bytes(KEY_LEN))},
            "retired": [],
            "hmac_key": _b64(secrets.token_bytes(KEY_LEN)),
        }
        atomic_write(path, json.dumps(data, indent=2).encode())  # 0600: secrets
        return cls(path)

    def add_kek(self) -> str:
        """Add a new KEK and make it active. Old KEKs stay until ``retire``."""
        data = self._load()
        kek_id = secrets.token_hex(8)
        keks = dict(self._keks(data))
        keks[kek_id] = _b64(secrets.token_bytes(KEY_LEN))
        data = {**data, "keks": keks, "active_kek": kek_id}
        self._save(data)
        return kek_id

    def retire(self, kek_id: str) -> None:
        """Destroy an old KEK's material; only its id is remembered."""
        data = self._load()
        if data["active_kek"] == kek_id:
            raise ConfigurationError("the active KEK cannot be retired")
        keks = {k: v for k, v in self._keks(data).items() if k != kek_id}
        retired = [*self._list(data, "retired"), kek_id]
        self._save({**data, "keks": keks, "retired": retired})

    def kek_ids(self) -> list[str]:
        return sorted(self._keks(self._load()))

    # -- KeyProvider -----------------------------------------------------------

    def active_kek(self) -> tuple[str, bytes]:
        data = self._load()
        kek_id = str(data["active_kek"])
        return kek_id, self.kek(kek_id)

    def kek(self, kek_id: str) -> bytes:
        keks = self._keks(self._load())
        if kek_id not in keks:
            raise KeyUnavailableError(f"KEK {kek_id} is not in {self.path.name} (retired?)")
        return _unb64(keks[kek_id], f"KEK {kek_id} in {self.path.name}")

    def hmac_key(self) -> bytes:
        return _unb64(str(self._load()["hmac_key"]), f"hmac_key in {self.path.name}")

    # -- internals ---------------------------------------------------------------

    def _load(self) -> dict[str, object]:
        # Re-read when the file changed: `casevoice keys rotate` in another process makes a new
        # KEK active and destroys the old one, and a running bot must not go on wrapping new
        # data keys under a KEK that no longer exists. A missing file fails closed at once.
        try:
            st = self.path.stat()
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
            if self._data is not None and stamp == self._stamp:
                return self._data
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise KeyUnavailableError(
                f"key file {self.path} not found (run `casevoice init`)"
            ) from None
        except OSError as exc:
            raise KeyUnavailableError(f"key file {self.path}: {type(exc).__name__}") from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise KeyUnavailableError(f"key file {self.path} is not valid JSON") from None
        if not isinstance(data, dict) or data.get("format") != KEYFILE_FORMAT:
            raise KeyUnavailableError(f"key file {self.path} is not a CaseVoice key file")
        self._data, self._stamp = data, stamp
        return data

    def _save(self, data: dict[str, object]) -> None:
        atomic_write(self.path, json.dumps(data, indent=2).encode())
        self._data, self._stamp = None, None  # re-read (and re-stamp) on next use

    @staticmethod
    def _keks(data: dict[str, object]) -> dict[str, str]:
        keks = data.get("keks")
        if not isinstance(keks, dict):
            raise KeyUnavailableError("key file has no KEKs")
        return {str(k): str(v) for k, v in keks.items()}

    @staticmethod
    def _list(data: dict[str, object], name: str) -> list[str]:
        value = data.get(name, [])
        return [str(v) for v in value] if isinstance(value, list) else []


class EnvKeyProvider:
    """KEK and HMAC key from the environment (base64). ``previous`` supports rotation."""

    def __init__(self, kek_b64: str, hmac_b64: str, previous_b64: str | None = None) -> None:
        self._active = _unb64(kek_b64, "CASEVOICE_KEK")
        self._hmac = _unb64(hmac_b64, "CASEVOICE_HMAC_KEY")
        self._keks = {self._id(self._active): self._active}
        if previous_b64:
            previous = _unb64(previous_b64, "CASEVOICE_KEK_PREVIOUS")
            self._keks[self._id(previous)] = previous

    @staticmethod
    def _id(kek: bytes) -> str:
        # A fingerprint, not the key: ids must be stable across restarts.
        return "env-" + hashlib.sha256(b"casevoice-kek-id|" + kek).hexdigest()[:12]

    def active_kek(self) -> tuple[str, bytes]:
        return self._id(self._active), self._active

    def kek(self, kek_id: str) -> bytes:
        if kek_id not in self._keks:
            raise KeyUnavailableError(f"KEK {kek_id} is not among the configured keys")
        return self._keks[kek_id]

    def hmac_key(self) -> bytes:
        return self._hmac
