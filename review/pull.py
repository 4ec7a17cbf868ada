"""Pull a case: verify, decrypt with the reviewer's identity, write readable documents.

Policy (fail closed, never write anything wrongly decrypted):

* A case-level verification error (ledger chain, signed head, signer key, a rolled-back ledger
  or a changed signer since the last pull) stops the pull before anything is decrypted.
* A statement-level error (sealed file modified, signature invalid or swapped) skips only that
  statement: it is listed as "skipped" with the problem and nothing of it is decrypted. A copy a
  previous pull exported (verified at that time) is left in place.
* If the identity opens none of the statements, the pull stops before writing anything.
* Withdrawn statements are never decrypted; a copy from an earlier pull is removed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from review.desk.pull_docs import RESERVED, statement_documents
from review.desk.words import DEFAULT_MARKING
from review.export import IndexRow, OutputDir
from review.verify import StatementStatus, VerifyReport, verify_case
from storage.evidence.common import canonical_json
from storage.evidence.errors import (
    EvidenceError,
    PackageError,
    VerificationFailedError,
    WrongIdentityError,
)
from storage.evidence.package import UnpackedStatement, unpack
from storage.evidence.seal import unseal
from storage.evidence.store import EvidenceStore


@dataclass(frozen=True)
class PullProgress:
    done: int
    total: int
    statement_id: str
    status: str


@dataclass
class PullResult:
    case_ref: str
    out_dir: Path
    report: VerifyReport
    rows: list[IndexRow] = field(default_factory=list)
    files_written: int = 0
    files_unchanged: int = 0
    removed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_ref": self.case_ref,
            "out_dir": str(self.out_dir),
            "ok": self.report.ok,
            "statements": [row.__dict__ for row in self.rows],
            "files_written": self.files_written,
            "files_unchanged": self.files_unchanged,
            "removed": self.removed,
            "problems": [p.__dict__ for p in self.report.problems],
        }


class CaseVerificationError(VerificationFailedError):
    """Raised with the full report attached, so callers can show every problem."""

    def __init__(self, message: str, report: VerifyReport) -> None:
        super().__init__(message)
        self.report = report


def pull_case(
    store: EvidenceStore,
    case_ref: str,
    identities: Sequence[Any],
    out_dir: Path,
    progress: Callable[[PullProgress], None] | None = None,
    trusted_signer: Ed25519PublicKey | None = None,
    marking: str = DEFAULT_MARKING,
) -> PullResult:
    report = verify_case(store, case_ref, trusted_signer)
    errors = [p.message for p in report.problems if p.severity == "error" and not p.statement_id]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CaseVerificationError(f"case {case_ref}: {errors[0]}{more}", report)
    out = OutputDir(out_dir, marking)
    _check_previous_pull(out, report)
    result = PullResult(case_ref=case_ref, out_dir=out.root, report=report)
    exportable = [s for s in report.statements if s.ok and not s.withdrawn]
    first_opened = _first_openable(store, exportable, identities, case_ref)
    total = len(report.statements)
    for done, status in enumerate(report.statements, start=1):
        row = _row(status)
        if status.withdrawn:
            row.status = "withdrawn"
            if out.remove_statement(status.statement_id):
                result.removed.append(status.statement_id)
        elif not status.ok:
            row.status, row.problem = "skipped", status.problems[0]
        else:
            cached = (
                first_opened if first_opened and first_opened[0] == status.statement_id else None
            )
            plaintext = cached[1] if cached else None
            _export(store, status, identities, report, out, row, plaintext)
        result.rows.append(row)
        if progress is not None:
            progress(PullProgress(done, total, status.statement_id, row.status))
    out.write_index(case_ref, report.signer_fingerprint, report.head_seq, result.rows)
    result.files_written, result.files_unchanged = out.written, out.unchanged
    return result


def _check_previous_pull(out: OutputDir, report: VerifyReport) -> None:
    """Trust on first pull: the signer must not change and the ledger must not shrink."""
    previous = out.previous_index()
    if previous is None:
        return
    if previous.get("case_ref") != report.case_ref:
        raise EvidenceError(f"{out.root} holds case {previous.get('case_ref')!s:.64}, not this one")
    if previous.get("signer_fingerprint") not in (None, report.signer_fingerprint):
        raise CaseVerificationError(
            f"case {report.case_ref}: signer key changed since the last pull "
            f"({previous.get('signer_fingerprint')} → {report.signer_fingerprint})",
            report,
        )
    before = previous.get("ledger_head_seq")
    if isinstance(before, int) and before > (report.head_seq or 0):
        raise CaseVerificationError(
            f"case {report.case_ref}: ledger rolled back (seq {before} at the last pull, "
            f"{report.head_seq or 0} now)",
            report,
        )


def _first_openable(
    store: EvidenceStore,
    statements: list[StatementStatus],
    identities: Sequence[Any],
    case_ref: str,
) -> tuple[str, bytes] | None:
    """Find a statement the identity opens before writing anything; none → WrongIdentityError."""
    for status in statements:
        try:
            return status.statement_id, _open(store, status, identities)
        except WrongIdentityError:
            continue
    if statements:
        raise WrongIdentityError(
            f"case {case_ref}: the identity given is not a recipient of any statement; "
            "nothing was written"
        )
    return None


def _open(store: EvidenceStore, status: StatementStatus, identities: Sequence[Any]) -> bytes:
    return unseal(
        store.get_object(status.object_key), identities, f"statement {status.statement_id}"
    )


def _export(
    store: EvidenceStore,
    status: StatementStatus,
    identities: Sequence[Any],
    report: VerifyReport,
    out: OutputDir,
    row: IndexRow,
    plaintext: bytes | None,
) -> None:
    case_ref = report.case_ref
    try:
        package = unpack(plaintext if plaintext is not None else _open(store, status, identities))
        _check_meta(package, case_ref, status.statement_id)
    except (WrongIdentityError, PackageError) as exc:
        row.status, row.problem = "skipped", str(exc)
        return
    meta = package.meta
    row.role = _str_or_none(meta.get("role"))
    row.submitted_at = _str_or_none(meta.get("submitted_at"))
    row.script_ref = _str_or_none(meta.get("script_ref"))
    row.files = sorted(package.files)
    provenance = {
        "case_ref": case_ref,
        "statement_id": status.statement_id,
        "receipt_code": status.receipt_code,
        "sealed_sha256": status.sealed_sha256,
        "sealed_at": status.sealed_at,
        "ledger_seq": status.ledger_seq,
        "ledger_entry_hash": status.entry_hash,
        "signer_fingerprint": report.signer_fingerprint,
        "meta": meta,
    }
    files = dict(package.files)
    files["provenance.json"] = canonical_json(provenance) + b"\n"
    files.update(statement_documents(package.files, provenance, row, out.marking))
    out.write_statement(status.statement_id, files)
    row.status = "exported"


def _check_meta(package: UnpackedStatement, case_ref: str, statement_id: str) -> None:
    meta = package.meta
    if (meta.get("case_ref"), meta.get("statement_id")) != (case_ref, statement_id):
        raise PackageError(f"statement {statement_id}: content does not match its ledger entry")
    if any(name in package.files for name in ("provenance.json", *RESERVED)):
        raise PackageError(f"statement {statement_id}: package holds a reserved file name")


def _row(status: StatementStatus) -> IndexRow:
    return IndexRow(
        statement_id=status.statement_id,
        status="skipped",
        receipt_code=status.receipt_code,
        ledger_seq=status.ledger_seq,
        sealed_at=status.sealed_at,
        withdrawn_at=status.withdrawn_at,
        withdrawal_reason=status.withdrawal_reason,
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)
