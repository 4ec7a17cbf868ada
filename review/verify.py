"""Verify a case's evidence on the reviewer's machine, naming every problem precisely.

Case-level problems (the ledger chain, its signed head, the signer key) mean nothing in the case
can be trusted. Statement-level problems (a modified sealed file, a bad signature) affect only
that statement. Warnings (an interrupted append the bot will finish) do not fail verification.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from storage.evidence.common import GENESIS_HASH, check_ref, sha256_hex
from storage.evidence.errors import (
    InvalidNameError,
    ObjectNotFoundError,
    SignatureError,
    SigningKeyError,
)
from storage.evidence.keys import fingerprint, load_public_key
from storage.evidence.layout import (
    SIGNER_KEY,
    classify,
    head_key,
    ledger_key,
    object_key,
    sig_key,
)
from storage.evidence.ledger import LedgerEntry, check_chain, parse_ledger
from storage.evidence.seal import read_signed, receipt_code
from storage.evidence.store import EvidenceStore

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    message: str
    statement_id: str | None = None  # None: the whole case is affected
    severity: Severity = "error"


@dataclass
class StatementStatus:
    statement_id: str
    ledger_seq: int
    entry_hash: str
    object_key: str
    sealed_sha256: str
    receipt_code: str
    sealed_at: str
    withdrawn: bool = False
    withdrawn_at: str | None = None
    withdrawal_reason: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class VerifyReport:
    case_ref: str
    signer_fingerprint: str | None = None
    head_seq: int | None = None
    ledger_entries: int = 0
    statements: list[StatementStatus] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def case_ok(self) -> bool:
        return not any(p.severity == "error" and p.statement_id is None for p in self.problems)

    def error(self, message: str, statement_id: str | None = None) -> None:
        self.problems.append(Problem(message, statement_id))
        for status in self.statements:
            if statement_id is not None and status.statement_id == statement_id:
                status.problems.append(message)

    def warn(self, message: str, statement_id: str | None = None) -> None:
        self.problems.append(Problem(message, statement_id, "warning"))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def verify_case(
    store: EvidenceStore, case_ref: str, trusted_signer: Ed25519PublicKey | None = None
) -> VerifyReport:
    """Check the ledger chain and head, every object, hash and signature of one case."""
    report = VerifyReport(case_ref=check_ref(case_ref))
    signer = _signer(store, trusted_signer, report)
    if signer is None:
        return report
    report.signer_fingerprint = fingerprint(signer)
    entries = _ledger(store, case_ref, signer, report)
    for entry in sorted(entries, key=lambda e: e.seq):
        _check_entry(store, case_ref, entry, signer, report)
    _check_orphans(store, case_ref, entries, report)
    return report


def _signer(
    store: EvidenceStore, trusted: Ed25519PublicKey | None, report: VerifyReport
) -> Ed25519PublicKey | None:
    pinned: Ed25519PublicKey | None = None
    try:
        pinned = load_public_key(store.get_object(SIGNER_KEY))
    except ObjectNotFoundError:
        pass
    except SigningKeyError:
        report.error("signer.pub in the store is not an Ed25519 public key")
    if trusted is None:
        if pinned is None:
            report.error("no signer.pub in the store: signatures cannot be checked")
        return pinned
    if pinned is not None and fingerprint(pinned) != fingerprint(trusted):
        report.error(
            f"signer key changed: signer.pub in the store is {fingerprint(pinned)}, "
            f"the trusted key is {fingerprint(trusted)}"
        )
    return trusted


def _ledger(
    store: EvidenceStore, case_ref: str, signer: Ed25519PublicKey, report: VerifyReport
) -> list[LedgerEntry]:
    try:
        parsed = parse_ledger(store.get_object(ledger_key(case_ref)))
    except ObjectNotFoundError:
        if store.list(f"{case_ref}/"):
            report.error(
                "ledger.jsonl is missing (if a first sealing was interrupted, the bot "
                "completes it within a minute; otherwise the ledger was removed)"
            )
        else:
            report.error(f"case {case_ref} is not in the evidence store")
        return []
    for message in parsed.bad_lines + check_chain(parsed.entries, case_ref):
        report.error(message)
    if parsed.torn_tail:
        report.warn("ledger: the last line is incomplete (an interrupted append)")
    entries = parsed.entries
    report.ledger_entries = len(entries)
    last = max(entries, key=lambda e: e.seq) if entries else None
    try:
        head = read_signed(store.get_object(head_key(case_ref)), signer, "ledger head")
    except ObjectNotFoundError:
        if entries:
            report.error("ledger head (ledger.head.json) is missing")
        return entries
    except SignatureError as exc:
        report.error(str(exc))
        return entries
    seq, head_hash = head.get("seq"), head.get("entry_hash")
    report.head_seq = seq if isinstance(seq, int) else None
    last_seq = last.seq if last else 0
    if head.get("case_ref") != case_ref or not isinstance(seq, int):
        report.error("ledger head is malformed or belongs to another case")
    elif seq > last_seq:
        report.error(
            f"ledger head is signed at seq {seq} but the ledger ends at seq {last_seq}: "
            "entries removed from the end"
        )
    elif seq == 0 and head_hash != GENESIS_HASH:
        report.error("ledger head is malformed")
    elif seq > 0 and next((e.entry_hash for e in entries if e.seq == seq), None) != head_hash:
        report.error(f"ledger head does not match ledger entry {seq}: the ledger was changed")
    elif seq < last_seq:
        report.warn(
            f"ledger entries {seq + 1}-{last_seq} are not yet covered by the signed head "
            "(an interrupted append)"
        )
    return entries


def _check_entry(
    store: EvidenceStore,
    case_ref: str,
    entry: LedgerEntry,
    signer: Ed25519PublicKey,
    report: VerifyReport,
) -> None:
    sid = entry.statement_id
    if entry.kind == "statement":
        if any(s.statement_id == sid for s in report.statements):
            report.error(f"statement {sid} appears twice in the ledger", sid)
            return
        report.statements.append(
            StatementStatus(
                statement_id=sid,
                ledger_seq=entry.seq,
                entry_hash=entry.entry_hash,
                object_key=entry.object_key,
                sealed_sha256=entry.sealed_sha256,
                receipt_code=receipt_code(entry.sealed_sha256),
                sealed_at=entry.at,
            )
        )
        label = f"statement {sid}"
    else:
        status = next((s for s in report.statements if s.statement_id == sid), None)
        if status is None:
            report.error(f"ledger entry {entry.seq}: withdrawal of unknown statement {sid}")
            return
        status.withdrawn = True  # from the verified chain, even if the notice is damaged
        label = f"withdrawal of statement {sid}"
    try:
        expected_key = object_key(entry.kind, case_ref, sid)
    except InvalidNameError:
        expected_key = ""
    if entry.object_key != expected_key:
        report.error(f"ledger entry {entry.seq}: object key does not match statement {sid}", sid)
        return
    try:
        data = store.get_object(entry.object_key)
    except ObjectNotFoundError:
        report.error(f"{label}: {entry.object_key} is missing", sid)
        return
    if sha256_hex(data) != entry.sealed_sha256:
        what = "sealed file" if entry.kind == "statement" else "withdrawal notice"
        report.error(f"{label}: {what} modified (sha256 mismatch)", sid)
    _check_signature(store, entry, signer, label, report)
    if entry.kind == "withdrawal":
        _read_notice(data, entry, report)


def _check_signature(
    store: EvidenceStore,
    entry: LedgerEntry,
    signer: Ed25519PublicKey,
    label: str,
    report: VerifyReport,
) -> None:
    sid = entry.statement_id
    try:
        document = read_signed(store.get_object(sig_key(entry.object_key)), signer, label)
    except ObjectNotFoundError:
        report.error(f"{label}: signature file missing", sid)
        return
    except SignatureError as exc:
        report.error(str(exc), sid)
        return
    if document.get("statement_id") != sid:
        other = str(document.get("statement_id"))[:64]
        report.error(f"{label}: signature belongs to statement {other} (swapped signature)", sid)
    elif (document.get("kind"), document.get("case_ref"), document.get("object_key")) != (
        entry.kind,
        entry.case_ref,
        entry.object_key,
    ):
        report.error(f"{label}: signature names another object", sid)
    elif document.get("sealed_sha256") != entry.sealed_sha256:
        report.error(f"{label}: signature does not match the ledger's sha256", sid)
    elif entry.kind == "statement":
        status = report.statements[-1]
        status.sealed_at = str(document.get("signed_at", status.sealed_at))


def _read_notice(data: bytes, entry: LedgerEntry, report: VerifyReport) -> None:
    status = next(s for s in report.statements if s.statement_id == entry.statement_id)
    try:
        notice = json.loads(data)
        status.withdrawn_at = str(notice["withdrawn_at"])
        status.withdrawal_reason = str(notice["reason_code"])
    except (ValueError, KeyError, TypeError):
        report.warn(f"withdrawal of statement {entry.statement_id}: notice is unreadable")


def _check_orphans(
    store: EvidenceStore, case_ref: str, entries: list[LedgerEntry], report: VerifyReport
) -> None:
    recorded = {e.object_key for e in entries}
    known = recorded | {sig_key(k) for k in recorded if classify(k)}
    known |= {ledger_key(case_ref), head_key(case_ref)}
    for key in store.list(f"{case_ref}/"):
        if key in known:
            continue
        if classify(key) is not None:
            report.warn(f"object {key} has no ledger entry (an interrupted seal?): not exported")
        else:
            report.warn(f"unexpected object {key} in the case")
