"""The evidence store: append-only objects under '/'-separated keys.

``EvidenceStore`` is small enough for an S3-compatible bucket: ``put_object`` is put-if-absent
(``If-None-Match: *``), ``append_object``/``replace_object`` are compare-and-swap rewrites
(``If-Match: <etag>``) of the two mutable objects of a case (ledger and head), and ``lock`` may be
a no-op there because the conditional writes detect a racing writer. Nothing needs rename.

``LocalEvidenceStore`` keeps objects as 0600 files in 0700 directories, written atomically.
It reads an object once, as a regular file reached without following any symbolic link below the
store's root, and never more than the object's cap (``layout.object_cap``): a FIFO, a device, a
link or an oversize file planted by whoever else can write the folder is refused, not read.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from storage.evidence.common import check_key, check_ref
from storage.evidence.errors import EvidenceError, ObjectExistsError, ObjectNotFoundError
from storage.evidence.layout import object_cap
from storage.files import FILE_MODE, append_durably, atomic_write, ensure_dir, write_new_file

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class EvidenceStore(Protocol):
    def put_object(self, key: str, data: bytes) -> None:
        """Store immutable bytes: idempotent for identical bytes, ObjectExistsError otherwise."""

    def get_object(self, key: str) -> bytes:
        """The object's bytes (at most ``object_cap(key)``), or ObjectNotFoundError."""
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
        """Atomically replace a mutable object: the ledger head, a ledger repair, or a sealed
        object an interrupted attempt left unsigned (not evidence until signed)."""

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
            if self.get_object(key) != data:
                raise ObjectExistsError(
                    f"object {key} already exists with different bytes; not overwriting"
                ) from None

    def get_object(self, key: str) -> bytes:
        try:
            fd = self._open(check_key(key).split("/"))
        except FileNotFoundError:
            raise ObjectNotFoundError(f"object {key} is not in the store") from None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise EvidenceError(
                    f"object {key} is a symbolic link or lies below one: refused"
                ) from None
            raise EvidenceError(f"object {key} cannot be read ({type(exc).__name__})") from exc
        try:
            return _read_capped(fd, key, object_cap(key))
        finally:
            os.close(fd)

    def _open(self, parts: builtins.list[str]) -> int:
        """Open ``parts`` below the root, one directory at a time, never following a link."""
        directory = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in parts[:-1]:
                inner = os.open(part, _READ_FLAGS | os.O_DIRECTORY, dir_fd=directory)
                os.close(directory)
                directory = inner
            # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
            return os.open(parts[-1], _READ_FLAGS | os.O_NONBLOCK, dir_fd=directory)
        finally:
            os.close(directory)

    def exists(self, key: str) -> bool:
        try:
            return stat.S_ISREG(os.lstat(self._path(key)).st_mode)
        except FileNotFoundError:
            return False

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
        # O_NOFOLLOW: a link planted as the lock file must not make the bot create files elsewhere
        fd = os.open(directory / ".writer.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def _read_capped(fd: int, key: str, cap: int) -> bytes:
    """Read a regular file's bytes once, refusing it before reading if it exceeds ``cap``."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise EvidenceError(f"object {key} is not a regular file")
    if info.st_size > cap:
        raise EvidenceError(f"object {key} is larger than {cap} bytes")
    chunks: builtins.list[bytes] = []
    left = cap + 1  # one byte more than allowed shows a file that grew while being read
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:
        raise EvidenceError(f"object {key} is larger than {cap} bytes")
    return b"".join(chunks)
