"""The one way files are written: whole or not at all, durable, owner-only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from storage.files import append_durably, atomic_file, atomic_write, write_new_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_write_creates_owner_only_folders_and_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "secret.json"

    atomic_write(target, b"{}")

    assert target.read_bytes() == b"{}"
    assert _mode(target) == 0o600
    assert _mode(tmp_path / "new") == _mode(tmp_path / "new" / "deeper") == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["secret.json"]  # no temp file left


def test_a_write_that_fails_halfway_leaves_the_old_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")

    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("checksum mismatch")

    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_a_new_file_never_replaces_an_existing_one(tmp_path: Path) -> None:
    target = tmp_path / "identity.txt"
    write_new_file(target, b"first")

    with pytest.raises(FileExistsError):
        write_new_file(target, b"second")

    assert target.read_bytes() == b"first" and _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["identity.txt"]


def test_appends_accumulate_in_an_owner_only_file(tmp_path: Path) -> None:
    ledger = tmp_path / "shredded-keys.log"

    append_durably(ledger, b"a\n")
    append_durably(ledger, b"b\n")

    assert ledger.read_bytes() == b"a\nb\n" and _mode(ledger) == 0o600
