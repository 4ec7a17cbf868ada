"""The evidence ledger's format: entries, parsing, chain and head checks (no store access).

Each entry records one sealed statement or withdrawal notice. ``entry_hash`` is the SHA-256 of
the canonical JSON of every other field, ``prev_hash`` included, so changing, removing or
reordering an entry breaks the chain. The head (last seq and entry hash) is signed by the bot, so
cutting entries off the end is caught too. The bot's writer and the reviewer's verifier share
these functions, so both read a ledger the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from storage.evidence.common import (
    FORMAT_VERSION,
    GENESIS_HASH,
    canonical_json,
    check_key,
    check_ref,
    is_hex64,
    is_utc_timestamp,
    printable,
    sha256_hex,
)
from storage.evidence.errors import InvalidNameError
from storage.evidence.layout import Kind

_FIELDS = ("seq", "kind", "case_ref", "statement_id", "object_key", "sealed_sha256", "at")
MAX_LINE_BYTES = 4096  # an entry is some 450 bytes


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
        """One line, strictly: every field typed and in its safe charset, else ValueError.

        The fields are later printed and used in object keys, so nothing unchecked (an escape
        sequence in a statement id, a path in an object key) ever leaves the parser.
        """
        if len(raw) > MAX_LINE_BYTES:
            raise ValueError("line too long")
        try:
            data = json.loads(raw)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        if not isinstance(data, dict) or set(data) != {*_FIELDS, "prev_hash", "entry_hash"}:
            raise ValueError("unexpected fields")
        seq = data["seq"]
        if type(seq) is not int or seq < 1 or data["kind"] not in ("statement", "withdrawal"):
            raise ValueError("bad seq or kind")
        if not all(isinstance(data[k], str) for k in data if k != "seq"):
            raise ValueError("bad field types")
        hashes = (data["sealed_sha256"], data["prev_hash"], data["entry_hash"])
        if not all(is_hex64(h) for h in hashes) or not is_utc_timestamp(data["at"]):
            raise ValueError("bad hash or timestamp")
        try:
            check_ref(data["case_ref"])
            check_ref(data["statement_id"], "statement id")
            check_key(data["object_key"])
        except InvalidNameError:
            raise ValueError("bad name") from None
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


def is_head_document(document: dict[str, Any], case_ref: str) -> bool:
    seq = document.get("seq")
    return (
        document.get("kind") == "ledger-head"
        and document.get("case_ref") == case_ref
        and type(seq) is int
        and seq >= 0
        and is_hex64(document.get("entry_hash"))
    )


def head_problem(head: dict[str, Any], entries: list[LedgerEntry]) -> int | str:
    """The seq a verified head covers in an intact chain, or what is wrong with it."""
    seq, entry_hash = head["seq"], head["entry_hash"]
    if seq > len(entries):
        return (
            f"ledger head is signed at seq {seq} but the ledger ends at seq {len(entries)}: "
            "entries removed from the end"
        )
    if entry_hash != (entries[seq - 1].entry_hash if seq else GENESIS_HASH):
        return f"ledger head does not match ledger entry {seq}: the ledger was changed"
    return int(seq)


def signature_problem(document: dict[str, Any], entry: LedgerEntry) -> str | None:
    """Why a (verified) signature document does not vouch for ``entry``, or None."""
    if document.get("statement_id") != entry.statement_id:
        other = printable(document.get("statement_id"), 64)
        return f"signature belongs to statement {other} (swapped signature)"
    if (document.get("kind"), document.get("case_ref"), document.get("object_key")) != (
        entry.kind,
        entry.case_ref,
        entry.object_key,
    ):
        return "signature names another object"
    if document.get("sealed_sha256") != entry.sealed_sha256:
        return "signature does not match the ledger's sha256"
    return None
