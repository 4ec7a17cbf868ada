"""SHA-256 of model files, cached by size and mtime so a restart does not re-hash 145 MB."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from pathlib import Path

from storage.files import atomic_write


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return _digest(path).hexdigest()


def record_sha256(path: Path) -> str:
    """SHA-256 in a wheel RECORD's spelling: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(_digest(path).digest()).rstrip(b"=").decode("ascii")


def cached_sha256(path: Path, cache_file: Path) -> str:
    """Hex SHA-256 of ``path``, reusing ``cache_file`` while the file's size and mtime match.

    The cache only saves time; it is not a security boundary (whoever can rewrite model.bin
    and restore its mtime can also rewrite the cache).
    """
    stat = path.stat()
    key = str(path.resolve())
    cache = _load(cache_file)
    entry = cache.get(key)
    if (
        isinstance(entry, dict)
        and entry.get("size") == stat.st_size
        and entry.get("mtime_ns") == stat.st_mtime_ns
        and isinstance(entry.get("sha256"), str)
    ):
        return str(entry["sha256"])
    digest = file_sha256(path)
    cache[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    # A read-only data dir only costs a re-hash at the next start.
    with contextlib.suppress(OSError):
        _store(cache_file, cache)
    return digest


def _digest(path: Path) -> hashlib._Hash:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256")


def _load(cache_file: Path) -> dict[str, object]:
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _store(cache_file: Path, cache: dict[str, object]) -> None:
    atomic_write(cache_file, json.dumps(cache, indent=1, sort_keys=True).encode("utf-8"))
