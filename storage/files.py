"""Crash-safe file writing, the one way every part of CaseVoice writes a file.

A file is written to a temp file in the same folder, fsynced, renamed over the target and the
folder fsynced: after a crash or power loss a reader finds the old file or the new one, whole,
never a mix, and a completed write stays written. Appends are fsynced too (and the folder, when
the append created the file). Files are 0600 and new folders 0700 whatever the umask: key files,
sealed evidence and exported statements are for their owner only, and nothing else we write
needs to be read by anyone else.

Every call blocks on fsync: callers on the event loop use ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_dir(path: Path) -> None:
    """Create ``path`` (and parents) as 0700 directories, fsyncing each new parent entry."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)
            fsync_dir(directory.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[tuple[Path, BinaryIO]]:
    """A new 0600 temp file in ``path``'s folder, fsynced when the block ends without error.

    The name starts with a dot: listings (the evidence store's) skip it as not-an-object. On any
    error it is removed; on success the caller moves it into place (and it is removed if not).
    """
    ensure_dir(path.parent)
    temp = path.parent / f".tmp-{secrets.token_hex(8)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield temp, handle
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Replace ``path`` with what the block writes, atomically and durably.

    Readers see the old file or the new one, never half; if the block raises, ``path`` is left
    as it was. For data already in memory, ``atomic_write`` is shorter.
    """
    with _temp_beside(path) as (temp, handle):
        yield handle
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old or new file, never half."""
    with atomic_file(path) as handle:
        handle.write(data)


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data`` atomically; raise FileExistsError if it already exists.

    A hard link is the portable atomic "create if absent" on POSIX: unlike rename it never
    replaces an existing file, so two racing writers cannot overwrite each other.
    """
    with _temp_beside(path) as (temp, handle):
        handle.write(data)
    try:
        os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def append_durably(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` (created 0600 if absent) and fsync it before returning."""
    ensure_dir(path.parent)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)
