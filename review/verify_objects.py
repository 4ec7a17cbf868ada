"""Verifying the objects a case's signed ledger names: sealed files, signatures, notices.

Each object is read once. A statement's sealed bytes are handed to ``keep`` only after their
hash and the bot's signature over it both check out; a withdrawal marks its statement withdrawn
only after the notice's hash, its signature and its content check out. Everything printed later
is either validated here or escaped (``printable``): store files are the attacker's text.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from review.report import StatementStatus, VerifyReport
from storage.evidence.common import (
    REASON_CODE_RE,
    is_utc_timestamp,
    load_json_object,
    printable,
    sha256_hex,
)
from storage.evidence.errors import EvidenceError, ObjectNotFoundError
from storage.evidence.layout import classify, head_key, ledger_key, object_key, sig_key
from storage.evidence.ledger_format import LedgerEntry, signature_problem
from storage.evidence.seal import read_signed, receipt_code
from storage.evidence.store import EvidenceStore


def check_entry(
    store: EvidenceStore,
    case_ref: str,
    entry: LedgerEntry,
    signer: Ed25519PublicKey,
    report: VerifyReport,
    keep: Callable[[str, bytes], None] | None,
) -> None:
    """Check one covered ledger entry's object, signature and (withdrawals) notice."""
    sid = entry.statement_id
    status = next((s for s in report.statements if s.statement_id == sid), None)
    if entry.kind == "statement":
        if status is not None:
            report.error(f"statement {sid} appears twice in the ledger", sid)
            return
        status = StatementStatus(
            statement_id=sid,
            ledger_seq=entry.seq,
            entry_hash=entry.entry_hash,
            object_key=entry.object_key,
            sealed_sha256=entry.sealed_sha256,
            receipt_code=receipt_code(entry.sealed_sha256),
            sealed_at=entry.at,
        )
        report.statements.append(status)
        label = f"statement {sid}"
    elif status is None:
        report.error(f"ledger entry {entry.seq}: withdrawal of unknown statement {sid}")
        return
    else:
        label = f"withdrawal of statement {sid}"
    if entry.object_key != object_key(entry.kind, case_ref, sid):
        report.error(f"ledger entry {entry.seq}: object key does not match statement {sid}", sid)
        return
    data = _read_verified(store, entry, signer, label, report)
    if data is None:
        return
    if entry.kind == "withdrawal":
        _withdraw(data, entry, status, report)
    elif keep is not None:
        keep(sid, data)


def _read_verified(
    store: EvidenceStore,
    entry: LedgerEntry,
    signer: Ed25519PublicKey,
    label: str,
    report: VerifyReport,
) -> bytes | None:
    """The object's bytes (read once) if they match the ledger and the bot's signature."""
    sid = entry.statement_id
    try:
        data = store.get_object(entry.object_key)
    except ObjectNotFoundError:
        report.error(f"{label}: {entry.object_key} is missing", sid)
        return None
    except EvidenceError as exc:
        report.error(f"{label}: {exc}", sid)
        return None
    if sha256_hex(data) != entry.sealed_sha256:
        what = "sealed file" if entry.kind == "statement" else "withdrawal notice"
        report.error(f"{label}: {what} modified (sha256 mismatch)", sid)
        return None
    try:
        document = read_signed(store.get_object(sig_key(entry.object_key)), signer, label)
    except ObjectNotFoundError:
        report.error(f"{label}: signature file missing", sid)
        return None
    except EvidenceError as exc:
        report.error(str(exc), sid)
        return None
    problem = signature_problem(document, entry)
    if problem is not None:
        report.error(f"{label}: {problem}", sid)
        return None
    if entry.kind == "statement" and is_utc_timestamp(document.get("signed_at")):
        status = next(s for s in report.statements if s.statement_id == sid)
        status.sealed_at = str(document["signed_at"])
    return data


def _withdraw(
    data: bytes, entry: LedgerEntry, status: StatementStatus, report: VerifyReport
) -> None:
    """Mark the statement withdrawn: only now, with a notice whose every field checks out."""
    label = f"withdrawal of statement {entry.statement_id}"
    try:
        notice = load_json_object(data, EvidenceError, f"{label}: notice")
    except EvidenceError as exc:
        report.error(str(exc), entry.statement_id)
        return
    reason, at = notice.get("reason_code"), notice.get("withdrawn_at")
    if (
        notice.get("kind") != "withdrawal-notice"
        or (notice.get("case_ref"), notice.get("statement_id"))
        != (entry.case_ref, entry.statement_id)
        or not isinstance(reason, str)
        or not REASON_CODE_RE.fullmatch(reason)
        or not is_utc_timestamp(at)
    ):
        report.error(f"{label}: notice is malformed", entry.statement_id)
        return
    status.withdrawn = True
    status.withdrawn_at, status.withdrawal_reason = str(at), reason


def check_orphans(
    store: EvidenceStore, case_ref: str, entries: list[LedgerEntry], report: VerifyReport
) -> None:
    """Objects no covered entry names are not evidence: named (escaped), never exported."""
    recorded = {e.object_key for e in entries}
    known = recorded | {sig_key(k) for k in recorded if classify(k)}
    known |= {ledger_key(case_ref), head_key(case_ref)}
    for key in store.list(f"{case_ref}/"):
        if key in known:
            continue
        shown = printable(key, 160)
        if classify(key) is not None:
            report.warn(f"object {shown} has no ledger entry (an interrupted seal?): not exported")
        else:
            report.warn(f"unexpected object {shown} in the case")
