"""The audit log's signed head: the newest event's seq and hash, kept outside the database.

The HMAC chain alone cannot show that its newest events were deleted; the head can, as long as
nobody can forge or remove it unnoticed. So the head is signed with the bot's Ed25519 key (a
key independent of the HMAC key the chain uses: one leaked key never forges both the chain and
its anchor; and anyone holding only the public key can check a head), and once events exist a
missing head is an error, not a reason to skip the check.

The head is written after each commit. A head behind the database is normal (a crash right
after a commit, another process's newer event); a head ahead of it means events were removed.
A missing head is never quietly re-created over existing events: only the first event of a log
creates it, ``casevoice init`` anchors a fresh installation, and ``casevoice audit anchor`` is
the operator's explicit, audited way to start a head where none is (a new host sharing the
database, or after investigating a deleted one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.errors import AuditHeadError
from storage.evidence.common import FORMAT_VERSION, is_hex64, iso_utc, utc_now
from storage.evidence.errors import EvidenceError
from storage.evidence.keys import fingerprint
from storage.evidence.seal import read_signed, sign_document
from storage.files import atomic_write

_MAX_HEAD_BYTES = 64 * 1024

__all__ = ["AuditHead", "AuditHeadError", "HeadRecord"]


@dataclass(frozen=True)
class HeadRecord:
    seq: int
    hash: str


class AuditHead:
    """The commit hook runs on the event loop, and a durable signed write waits for two fsyncs:
    so ``record`` hands the write to one thread of its own (writes stay in commit order), and
    ``read`` first waits for the writes handed over so far."""

    def __init__(self, path: Path, signing_key: Callable[[], Ed25519PrivateKey]) -> None:
        self.path = path
        self._signing_key = signing_key
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="casevoice-audit-head")

    def record(self, seq: int, digest: str) -> None:
        """Write the head soon, off the caller's thread (a failure is logged, never raised)."""
        self._writer.submit(self._write_logged, seq, digest)

    def _write_logged(self, seq: int, digest: str) -> None:
        try:
            self.write(seq, digest)
        except (OSError, AuditHeadError) as exc:
            logging.getLogger(__name__).error(
                "could not record the audit head at event %d (%s)", seq, type(exc).__name__
            )

    def read(self) -> HeadRecord | None:
        """The verified head; None only when there is no head file. Anything else raises."""
        self._writer.submit(lambda: None).result()  # the heads recorded so far are written
        return self._read_file()

    def _read_file(self) -> HeadRecord | None:
        try:
            with self.path.open("rb") as handle:
                data = handle.read(_MAX_HEAD_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AuditHeadError(f"audit head {self.path} cannot be read") from exc
        try:
            key = self._signing_key().public_key()
            document = read_signed(data[:_MAX_HEAD_BYTES], key, f"audit head {self.path}")
        except EvidenceError as exc:
            raise AuditHeadError(f"audit head {self.path} is not signed by the bot's key") from exc
        seq = document.get("seq")
        if document.get("kind") != "audit-head" or type(seq) is not int or seq < 0:
            raise AuditHeadError(f"audit head {self.path} is malformed")
        if not is_hex64(document.get("hash")):
            raise AuditHeadError(f"audit head {self.path} is malformed")
        return HeadRecord(seq, str(document["hash"]))

    def write(self, seq: int, digest: str) -> None:
        """Advance the head to event ``seq`` (after its commit); never move it back."""
        current = self._read_file()
        if current is None and seq > 1:
            raise AuditHeadError(
                f"audit head {self.path} is missing while {seq} events exist: not re-created "
                "over events it never covered (run `casevoice audit verify`)"
            )
        if current is not None and current.seq >= seq:
            return  # a concurrent writer already recorded a newer head
        self._sign(seq, digest)

    def anchor(self, seq: int, digest: str) -> bool:
        """Start a head at ``seq`` if there is none (True); an existing head is kept (False)."""
        if self.read() is not None:
            return False
        self._sign(seq, digest)
        return True

    def _sign(self, seq: int, digest: str) -> None:
        key = self._signing_key()
        document = {
            "version": FORMAT_VERSION,
            "kind": "audit-head",
            "seq": seq,
            "hash": digest,
            "signed_at": iso_utc(utc_now()),
            "signer": fingerprint(key.public_key()),
        }
        atomic_write(self.path, sign_document(document, key))
