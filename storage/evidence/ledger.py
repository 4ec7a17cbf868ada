"""The evidence ledger of a case: the bot's writer, and crash recovery that never signs a forgery.

The format (entries, chain, signed head) is in ``ledger_format``. Writes happen in a fixed order:
object, signature, ledger line, head. ``recover`` turns any crash point back into a consistent
ledger without ever dropping a complete entry, and without ever signing what the bot did not
write: a crash leaves at most one entry past the signed head, and the head is moved over it only
if its object carries the bot's own valid signature. Anything else past the head (more entries,
a forged line, a missing head) is tampering: ``LedgerError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from storage.evidence.common import check_ref, iso_utc, sha256_hex, utc_now
from storage.evidence.errors import EvidenceError, LedgerError, ObjectNotFoundError
from storage.evidence.keys import fingerprint
from storage.evidence.layout import Kind, head_key, ledger_key, object_key, sig_key
from storage.evidence.ledger_format import (
    LedgerEntry,
    ParsedLedger,
    check_chain,
    head_document,
    head_problem,
    is_head_document,
    make_entry,
    parse_ledger,
    signature_problem,
)
from storage.evidence.seal import read_signed, sign_document
from storage.evidence.store import EvidenceStore

__all__ = [
    "EvidenceLedger",
    "LedgerEntry",
    "ParsedLedger",
    "RecoveryReport",
    "check_chain",
    "make_entry",
    "parse_ledger",
    "uncovered_problem",
]


def uncovered_problem(
    store: EvidenceStore,
    case_ref: str,
    entries: list[LedgerEntry],
    head_seq: int,
    signer: Ed25519PublicKey,
) -> str | None:
    """Whether the entries past the signed head are one interrupted append of the bot's own.

    The bot signs the head right after each append, so a crash leaves at most one entry past
    it, and that entry's object and signature were written (and signed) before it. Anything
    else was added by someone else. None means "the bot's own"; otherwise what is wrong.
    """
    past = entries[head_seq:]
    if len(past) > 1:
        return (
            f"ledger entries {past[0].seq}-{past[-1].seq} are past the signed head, where a crash "
            "leaves at most one: added by someone else"
        )
    (entry,) = past
    earlier = entries[:head_seq]
    label = f"ledger entry {entry.seq} (past the signed head)"
    if entry.object_key != object_key(entry.kind, case_ref, entry.statement_id):
        return f"{label} names an unexpected object"
    if any(e.kind == entry.kind and e.statement_id == entry.statement_id for e in earlier):
        return f"{label} repeats an earlier entry"
    if entry.kind == "withdrawal" and not any(
        e.kind == "statement" and e.statement_id == entry.statement_id for e in earlier
    ):
        return f"{label} withdraws a statement that was never sealed"
    try:
        if sha256_hex(store.get_object(entry.object_key)) != entry.sealed_sha256:
            return f"{label}: its object does not match it"
        document = read_signed(store.get_object(sig_key(entry.object_key)), signer, label)
    except ObjectNotFoundError:
        return f"{label}: its object or signature is missing"
    except EvidenceError as exc:
        return f"{label} is not the bot's own ({exc})"
    problem = signature_problem(document, entry)
    return None if problem is None else f"{label}: {problem}"


@dataclass(frozen=True)
class RecoveryReport:
    torn_bytes_removed: int = 0
    newline_restored: bool = False
    head_rewritten: bool = False


class EvidenceLedger:
    """The bot's writer for one case's ledger. Call under ``store.lock(case_ref)``."""

    def __init__(
        self,
        store: EvidenceStore,
        case_ref: str,
        signing_key: Ed25519PrivateKey,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._case_ref = check_ref(case_ref)
        self._key = signing_key
        self._clock = clock

    def _read(self) -> bytes:
        try:
            return self._store.get_object(ledger_key(self._case_ref))
        except ObjectNotFoundError:
            return b""

    def entries(self) -> list[LedgerEntry]:
        """The entries, or LedgerError if the ledger is not intact: never append to a broken one."""
        parsed = parse_ledger(self._read())
        problems = parsed.bad_lines + check_chain(parsed.entries, self._case_ref)
        if parsed.torn_tail:
            problems.append("ledger: the last line is incomplete")
        if problems:
            raise LedgerError(f"case {self._case_ref}: {problems[0]}")
        return parsed.entries

    def recover(self) -> RecoveryReport:
        """Repair a torn last line and a stale head; refuse anything that looks like tampering."""
        data = self._read()
        parsed = parse_ledger(data)
        torn = newline = False
        if parsed.torn_tail:
            # Only a cut-short append is repaired: the tail must be the start of an entry and not
            # parse as one. Complete entries are never dropped.
            if not parsed.torn_tail.startswith(b'{"'):
                raise LedgerError(f"case {self._case_ref}: ledger ends in unrecognised bytes")
            self._store.replace_object(ledger_key(self._case_ref), data[: -len(parsed.torn_tail)])
            torn = True
        elif parsed.missing_newline:
            self._store.append_object(ledger_key(self._case_ref), b"\n")
            newline = True
        entries = self.entries()
        head = self._read_head()
        repaired = (len(parsed.torn_tail) if torn else 0, newline)
        if head is None:
            if entries:
                raise LedgerError(
                    f"case {self._case_ref}: the signed ledger head is missing while the ledger "
                    f"holds {len(entries)} entries (it is written before the first entry, so it "
                    "was removed); not signing over entries the bot cannot vouch for"
                )
            self.write_head(None)
            return RecoveryReport(*repaired, True)
        head_seq = head_problem(head, entries)
        if isinstance(head_seq, str):
            raise LedgerError(f"case {self._case_ref}: {head_seq}")
        if head_seq == len(entries):
            return RecoveryReport(*repaired, False)
        problem = uncovered_problem(
            self._store, self._case_ref, entries, head_seq, self._key.public_key()
        )
        if problem is not None:
            raise LedgerError(f"case {self._case_ref}: {problem}; not signing over it")
        self.write_head(entries[-1])
        return RecoveryReport(*repaired, True)

    def _read_head(self) -> dict[str, Any] | None:
        try:
            raw = self._store.get_object(head_key(self._case_ref))
        except ObjectNotFoundError:
            return None
        document = read_signed(raw, self._key.public_key(), f"case {self._case_ref} ledger head")
        if not is_head_document(document, self._case_ref):
            raise LedgerError(f"case {self._case_ref}: ledger head is malformed")
        return document

    def write_head(self, last: LedgerEntry | None) -> None:
        document = head_document(
            self._case_ref, last, iso_utc(self._clock()), fingerprint(self._key.public_key())
        )
        self._store.replace_object(head_key(self._case_ref), sign_document(document, self._key))

    def append(
        self,
        entries: list[LedgerEntry],
        *,
        kind: Kind,
        statement_id: str,
        object_key: str,
        sealed_sha256: str,
    ) -> LedgerEntry:
        """Append one entry after ``entries`` (as just read under the lock), then sign the head."""
        entry = make_entry(
            entries[-1] if entries else None,
            kind=kind,
            case_ref=self._case_ref,
            statement_id=statement_id,
            object_key=object_key,
            sealed_sha256=sealed_sha256,
            at=iso_utc(self._clock()),
        )
        self._store.append_object(ledger_key(self._case_ref), entry.to_line())
        self.write_head(entry)
        return entry
