"""The evidence store: append-only objects under '/'-separated keys.

``EvidenceStore`` is small enough for an S3-compatible bucket: ``put_object`` is put-if-absent
(``If-None-Match: *``), ``append_object``/``replace_object`` are compare-and-swap rewrites
(``If-Match: <etag>``) of the two mutable objects of a case (ledger and head), and ``lock`` may be
a no-op there because the conditional writes detect a racing writer. Nothing needs rename.

``LocalEvidenceStore`` keeps objects as 0600 files in 0700 directories, written atomically.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from storage.evidence.common import check_key, check_ref
from storage.evidence.errors import EvidenceError, ObjectExistsError, ObjectNotFoundError
from storage.files import FILE_MODE, append_durably, atomic_write, ensure_dir, write_new_file


class EvidenceStore(Protocol):
    def put_object(self, key: str, data: bytes) -> None:
        """Store immutable bytes: idempotent for identical bytes, ObjectExistsError otherwise."""

    def get_object(self, key: str) -> bytes:
        """The object's bytes, or ObjectNotFoundError."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Sorted keys starting with ``prefix``."""
        ...

    def append_object(self, key: str, data: bytes) -> None:
        """Append bytes to an append-only log object (created if absent)."""

    def replace_object(self, key: str, data: bytes) -> None:
        """Atomically replace a mutable pointer object (the ledger head, a ledger repair)."""

    def lock(self, name: str) -> AbstractContextManager[None]:
        """Exclusive writer lock for one case, so two writers never interleave."""
        ...


class LocalEvidenceStore:
    """An evidence store in a local directory (or a mounted share that honours flock)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalEvidenceStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put_object(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            write_new_file(path, data)
        except FileExistsError:
            if path.read_bytes() != data:
                raise ObjectExistsError(
                    f"object {key} already exists with different bytes; not overwriting"
                ) from None

    def get_object(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFoundError(f"object {key} is not in the store") from None
        except OSError as exc:
            raise EvidenceError(f"object {key} cannot be read ({type(exc).__name__})") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> builtins.list[str]:
        base_parts = prefix.split("/")[:-1]
        base = self.root.joinpath(*base_parts) if base_parts else self.root
        if not base.is_dir():
            return []
        keys: builtins.list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            relative = Path(dirpath).relative_to(self.root).parts
            for name in filenames:
                if name.startswith("."):
                    continue  # temp files and lock files are not objects
                key = "/".join((*relative, name))
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def append_object(self, key: str, data: bytes) -> None:
        append_durably(self._path(key), data)

    def replace_object(self, key: str, data: bytes) -> None:
        atomic_write(self._path(key), data)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        directory = self.root / check_ref(name)
        ensure_dir(directory)
        fd = os.open(directory / ".writer.lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock
