"""Verified sealed bytes, set aside until they are decrypted.

Verification reads each sealed file once; what it verified is what gets decrypted, whatever the
store returns afterwards (a FIFO, a sync client or a racing writer can serve different bytes to
a second read). The verified bytes wait in a private temporary folder (0700, files 0600, removed
on close) rather than in memory, so a case with hours of audio does not need its size in RAM.
They are ciphertext, never plaintext: nothing readable touches the disk here.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType

from storage.evidence.common import check_ref


class Spool:
    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="casevoice-pull-")
        self._kept: set[str] = set()

    def _path(self, statement_id: str) -> Path:
        return Path(self._dir.name) / check_ref(statement_id, "statement id")

    def keep(self, statement_id: str, data: bytes) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self._path(statement_id), flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        self._kept.add(statement_id)

    def __contains__(self, statement_id: object) -> bool:
        return statement_id in self._kept

    def take(self, statement_id: str) -> bytes:
        return self._path(statement_id).read_bytes()

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
