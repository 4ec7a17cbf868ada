"""Key providers: the 0600 key file and the environment variables."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from storage.errors import ConfigurationError, KeyUnavailableError
from storage.keyfile import EnvKeyProvider, FileKeyProvider


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_given_no_key_file_when_created_then_mode_0600_with_kek_and_hmac(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys.json"

    provider = FileKeyProvider.create(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kek_id, kek = provider.active_kek()
    assert len(kek) == 32 and len(provider.hmac_key()) == 32
    assert kek != provider.hmac_key()
    assert provider.kek(kek_id) == kek
    # A fresh provider on the same file reads the same keys.
    again = FileKeyProvider(path)
    assert again.active_kek() == (kek_id, kek)
    assert again.hmac_key() == provider.hmac_key()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".keys-")]


def test_given_two_key_files_then_their_keys_differ(tmp_path: Path) -> None:
    one = FileKeyProvider.create(tmp_path / "one.json")
    two = FileKeyProvider.create(tmp_path / "two.json")

    assert one.active_kek()[1] != two.active_kek()[1]
    assert one.hmac_key() != two.hmac_key()


def test_given_a_key_file_when_created_again_then_refused_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    FileKeyProvider.create(path)
    before = path.read_bytes()

    with pytest.raises(ConfigurationError):
        FileKeyProvider.create(path)

    assert path.read_bytes() == before


def test_given_a_missing_key_file_then_key_unavailable(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path / "nowhere.json")

    with pytest.raises(KeyUnavailableError, match="not found"):
        provider.active_kek()
    with pytest.raises(KeyUnavailableError):
        provider.hmac_key()


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": "something-else"}', b"[]"])
def test_given_a_corrupt_key_file_then_key_unavailable(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "keys.json"
    path.write_bytes(content)

    with pytest.raises(KeyUnavailableError):
        FileKeyProvider(path).active_kek()


def test_given_a_folder_where_the_key_file_should_be_then_key_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.mkdir()  # unreadable as a file even for root (chmod 0 would not stop root)

    with pytest.raises(KeyUnavailableError, match="IsADirectoryError"):
        FileKeyProvider(path).hmac_key()
    with pytest.raises(KeyUnavailableError):
        FileKeyProvider(path).active_kek()


def test_given_the_key_file_cannot_be_read_then_key_unavailable_and_nothing_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A permission error at the provider's one read (what chmod 0 gives a non-root user)."""
    path = tmp_path / "keys.json"
    FileKeyProvider.create(path)
    real_read = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    provider = FileKeyProvider(path)

    with pytest.raises(KeyUnavailableError, match="PermissionError"):
        provider.hmac_key()
    with pytest.raises(KeyUnavailableError):
        provider.active_kek()
    monkeypatch.undo()
    assert len(provider.hmac_key()) == 32  # readable again: the failure was not remembered


def test_given_a_rotation_when_the_old_kek_is_retired_then_its_material_is_gone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys.json"
    provider = FileKeyProvider.create(path)
    old_id, old_kek = provider.active_kek()
    hmac_key = provider.hmac_key()

    new_id = provider.add_kek()
    assert provider.active_kek()[0] == new_id != old_id
    assert provider.kek(old_id) == old_kek  # still there until retired
    provider.retire(old_id)

    reread = FileKeyProvider(path)
    assert reread.kek_ids() == [new_id]
    with pytest.raises(KeyUnavailableError):
        reread.kek(old_id)
    data = json.loads(path.read_bytes())
    assert old_id in data["retired"]
    assert _b64(old_kek) not in path.read_text()
    assert reread.hmac_key() == hmac_key  # rotation never changes the keyed hashes
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_given_the_active_kek_when_retired_then_refused(tmp_path: Path) -> None:
    provider = FileKeyProvider.create(tmp_path / "keys.json")

    with pytest.raises(ConfigurationError):
        provider.retire(provider.active_kek()[0])
    assert provider.active_kek()[1]


def test_given_env_keys_then_they_are_used() -> None:
    kek, hmac_key = os.urandom(32), os.urandom(32)

    provider = EnvKeyProvider(_b64(kek), _b64(hmac_key))

    kek_id, active = provider.active_kek()
    assert active == kek and provider.kek(kek_id) == kek
    assert provider.hmac_key() == hmac_key
    assert kek.hex() not in kek_id and _b64(kek) not in kek_id
    assert EnvKeyProvider(_b64(kek), _b64(hmac_key)).active_kek()[0] == kek_id  # stable id
    with pytest.raises(KeyUnavailableError):
        provider.kek("env-unknown")


def test_given_env_keys_with_a_previous_kek_then_both_are_available() -> None:
    old, new, hmac_key = os.urandom(32), os.urandom(32), os.urandom(32)
    before = EnvKeyProvider(_b64(old), _b64(hmac_key))
    old_id = before.active_kek()[0]

    during = EnvKeyProvider(_b64(new), _b64(hmac_key), previous_b64=_b64(old))

    assert during.active_kek()[1] == new
    assert during.kek(old_id) == old


@pytest.mark.parametrize(
    ("kek", "hmac_key", "previous", "variable"),
    [
        ("not base64!!", _b64(b"h" * 32), None, "CASEVOICE_KEK"),
        (_b64(b"k" * 16), _b64(b"h" * 32), None, "CASEVOICE_KEK"),
        (_b64(b"k" * 32), "%%%", None, "CASEVOICE_HMAC_KEY"),
        (_b64(b"k" * 32), _b64(b"h" * 33), None, "CASEVOICE_HMAC_KEY"),
        (_b64(b"k" * 32), _b64(b"h" * 32), _b64(b"p" * 8), "CASEVOICE_KEK_PREVIOUS"),
        ("", _b64(b"h" * 32), None, "CASEVOICE_KEK"),
    ],
)
def test_given_a_bad_env_key_then_configuration_error_naming_the_variable(
    kek: str, hmac_key: str, previous: str | None, variable: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        EnvKeyProvider(kek, hmac_key, previous)

    message = str(info.value)
    assert message.startswith(variable + " ")
    assert "\n" not in message
    assert kek not in message or not kek


def test_given_a_rotation_by_another_process_then_a_running_provider_follows_it(
    tmp_path: Path,
) -> None:
    """A long-running bot must not keep wrapping new data keys under a destroyed KEK."""
    path = tmp_path / "keys.json"
    running = FileKeyProvider.create(path)
    old_id, _ = running.active_kek()

    operator = FileKeyProvider(path)  # `casevoice keys rotate` in another process
    new_id = operator.add_kek()
    operator.retire(old_id)

    assert running.active_kek() == (new_id, operator.kek(new_id))
    with pytest.raises(KeyUnavailableError):
        running.kek(old_id)


def test_given_the_key_file_removed_while_running_then_keys_are_unavailable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys.json"
    running = FileKeyProvider.create(path)
    assert running.hmac_key()

    path.unlink()

    with pytest.raises(KeyUnavailableError):
        running.hmac_key()
    with pytest.raises(KeyUnavailableError):
        running.active_kek()
