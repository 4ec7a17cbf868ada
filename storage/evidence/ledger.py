"""The evidence ledger of a case: a hash chain of JSON lines with a signed head.

Each entry records one sealed statement or withdrawal notice. ``entry_hash`` is the SHA-256 of
the canonical JSON of every other field, ``prev_hash`` included, so changing, removing or
reordering an entry breaks the chain. The head (last seq and entry hash) is signed by the bot, so
cutting entries off the end is caught too.

Writes happen in a fixed order: object, signature, ledger line, head. ``recover`` turns any crash
point back into a consistent ledger without ever dropping a complete entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.evidence.common import (
    FORMAT_VERSION,
    GENESIS_HASH,
    canonical_json,
    check_ref,
    iso_utc,
    sha256_hex,
    utc_now,
)
from storage.evidence.errors import LedgerError, ObjectNotFoundError
from storage.evidence.keys import fingerprint
from storage.evidence.layout import Kind, head_key, ledger_key
from storage.evidence.seal import read_signed, sign_document
from storage.evidence.store import EvidenceStore

_FIELDS = ("seq", "kind", "case_ref", "statement_id", "object_key", "sealed_sha256", "at")


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    kind: Kind
    case_ref: str
    statement_id: str
    object_key: str
    sealed_sha256: str
    at: str
    prev_hash: str
    entry_hash: str

    def body(self) -> dict[str, Any]:
        body = asdict(self)
        del body["entry_hash"]
        return body

    def computed_hash(self) -> str:
        return sha256_hex(canonical_json(self.body()))

    def to_line(self) -> bytes:
        return canonical_json(asdict(self)) + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> LedgerEntry:
        data = json.loads(raw)
        if not isinstance(data, dict) or set(data) != {*_FIELDS, "prev_hash", "entry_hash"}:
            raise ValueError("unexpected fields")
        if not isinstance(data["seq"], int) or data["kind"] not in ("statement", "withdrawal"):
            raise ValueError("bad seq or kind")
        if not all(isinstance(data[k], str) for k in data if k != "seq"):
            raise ValueError("bad field types")
        return cls(**data)


def make_entry(
    prev: LedgerEntry | None,
    *,
    kind: Kind,
    case_ref: str,
    statement_id: str,
    object_key: str,
    sealed_sha256: str,
    at: str,
) -> LedgerEntry:
    body: dict[str, Any] = {
        "seq": prev.seq + 1 if prev else 1,
        "kind": kind,
        "case_ref": case_ref,
        "statement_id": statement_id,
        "object_key": object_key,
        "sealed_sha256": sealed_sha256,
        "at": at,
        "prev_hash": prev.entry_hash if prev else GENESIS_HASH,
    }
    return LedgerEntry(**body, entry_hash=sha256_hex(canonical_json(body)))


@dataclass
class ParsedLedger:
    entries: list[LedgerEntry] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)
    torn_tail: bytes = b""  # an incomplete last line (a write cut short)
    missing_newline: bool = False  # the last line is a complete entry without its newline


def parse_ledger(data: bytes) -> ParsedLedger:
    parsed = ParsedLedger()
    lines = data.split(b"\n")
    for number, line in enumerate(lines[:-1], start=1):
        try:
            parsed.entries.append(LedgerEntry.from_json(line))
        except (ValueError, TypeError):
            parsed.bad_lines.append(f"ledger line {number}: not a valid ledger entry")
    if lines[-1]:
        try:
            parsed.entries.append(LedgerEntry.from_json(lines[-1]))
            parsed.missing_newline = True
        except (ValueError, TypeError):
            parsed.torn_tail = lines[-1]
    return parsed


def check_chain(entries: list[LedgerEntry], case_ref: str) -> list[str]:
    """Every break in the chain, named precisely; an empty list means the chain is intact."""
    problems: list[str] = []
    for earlier, later in zip(entries, entries[1:], strict=False):
        if later.seq < earlier.seq:
            problems.append(f"entries reordered: entry {later.seq} appears after {earlier.seq}")
    ordered = sorted(entries, key=lambda e: e.seq)
    if ordered and ordered[0].seq != 1:
        first = ordered[0].seq
        missing = "entry 1" if first == 2 else f"entries 1-{first - 1}"
        problems.append(f"{missing} missing (ledger starts at seq {first})")
    for entry in ordered:
        if entry.case_ref != case_ref:
            problems.append(f"ledger entry {entry.seq}: belongs to case {entry.case_ref}")
        if entry.computed_hash() != entry.entry_hash:
            problems.append(f"ledger entry {entry.seq}: entry_hash does not match its content")
    if ordered and ordered[0].seq == 1 and ordered[0].prev_hash != GENESIS_HASH:
        problems.append("ledger entry 1: prev_hash is not the genesis hash")
    for prev, entry in zip(ordered, ordered[1:], strict=False):
        if entry.seq == prev.seq:
            problems.append(f"ledger entry {entry.seq} appears twice")
        elif entry.seq != prev.seq + 1:
            gap = entry.seq - prev.seq - 1
            missing = (
                f"entry {prev.seq + 1}" if gap == 1 else f"entries {prev.seq + 1}-{entry.seq - 1}"
            )
            problems.append(f"{missing} missing (seq gap {prev.seq}→{entry.seq})")
        elif entry.prev_hash != prev.entry_hash:
            problems.append(f"ledger entry {entry.seq}: prev_hash does not match entry {prev.seq}")
    return problems


def head_document(
    case_ref: str, last: LedgerEntry | None, signed_at: str, signer: str
) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "kind": "ledger-head",
        "case_ref": case_ref,
        "seq": last.seq if last else 0,
        "entry_hash": last.entry_hash if last else GENESIS_HASH,
        "signed_at": signed_at,
        "signer": signer,
    }


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
        last = entries[-1] if entries else None
        if head is not None and (head["seq"], head["entry_hash"]) == (
            last.seq if last else 0,
            last.entry_hash if last else GENESIS_HASH,
        ):
            return RecoveryReport(len(parsed.torn_tail) if torn else 0, newline, False)
        if head is not None and head["seq"] > 0:
            covered = next((e for e in entries if e.seq == head["seq"]), None)
            if covered is None or covered.entry_hash != head["entry_hash"]:
                raise LedgerError(
                    f"case {self._case_ref}: signed head (seq {head['seq']}) does not match the "
                    "ledger: entries were removed or changed"
                )
        self.write_head(last)
        return RecoveryReport(len(parsed.torn_tail) if torn else 0, newline, True)

    def _read_head(self) -> dict[str, Any] | None:
        try:
            raw = self._store.get_object(head_key(self._case_ref))
        except ObjectNotFoundError:
            return None
        document = read_signed(raw, self._key.public_key(), f"case {self._case_ref} ledger head")
        if (
            not isinstance(document.get("seq"), int)
            or not isinstance(document.get("entry_hash"), str)
            or document.get("case_ref") != self._case_ref
        ):
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
