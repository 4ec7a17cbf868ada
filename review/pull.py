"""Pull a case: verify, decrypt with the reviewer's identity, write readable documents.

Policy (fail closed, never write anything wrongly decrypted):

* The signer must be trusted explicitly on the first pull into a folder (``review.trust``); the
  pin kept there makes later pulls refuse another signer or an older head.
* Any verification error, for the case or for one statement, and any ledger line past the
  signed head stop the pull before anything is decrypted: nothing is written, nothing deleted.
* What is decrypted is exactly what verified: each sealed file is read once (``Spool``).
* If the identity opens none of the statements, the pull stops before writing anything. A
  statement the identity cannot open (sealed to other reviewers) is listed as skipped.
* Withdrawn statements (with a verified, signed notice) are never decrypted; a copy from an
  earlier pull is removed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from review.desk.pull_docs import RESERVED, statement_documents
from review.desk.words import DEFAULT_MARKING
from review.export import IndexRow, OutputDir
from review.report import StatementStatus, VerifyReport
from review.spool import Spool
from review.trust import PIN_FILE, SignerPin, TrustedSigner, load_pin, resolve_trust
from review.verify import verify_case
from storage.evidence.common import canonical_json, printable
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
            "signer_fingerprint": self.report.signer_fingerprint,
            "trusted_on_first_use": self.report.trusted_on_first_use,
            "ledger_head_seq": self.report.head_seq,
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
    *,
    signer: TrustedSigner | None = None,
    first_use: bool = False,
    marking: str = DEFAULT_MARKING,
) -> PullResult:
    out = OutputDir(out_dir, marking)
    pin = load_pin(out.root, case_ref)
    trust = resolve_trust(pin, signer, first_use, out.root)
    with Spool() as spool:
        report = verify_case(store, case_ref, trust, keep=spool.keep)
        _refuse_unless_clean(report)
        _check_previous_index(out, report)
        result = PullResult(case_ref=case_ref, out_dir=out.root, report=report)
        exportable = [s for s in report.statements if not s.withdrawn]
        first_opened = _first_openable(spool, exportable, identities, case_ref)
        total = len(report.statements)
        for done, status in enumerate(report.statements, start=1):
            row = _row(status)
            if status.withdrawn:
                row.status = "withdrawn"
                if out.remove_statement(status.statement_id):
                    result.removed.append(status.statement_id)
            else:
                opened = first_opened[1] if first_opened[0] == status.statement_id else None
                _export(spool, status, identities, report, out, row, opened)
            result.rows.append(row)
            if progress is not None:
                progress(PullProgress(done, total, status.statement_id, row.status))
    out.write_index(case_ref, report.signer_fingerprint, report.head_seq, result.rows)
    how = pin.how if pin else ("first-use" if report.trusted_on_first_use else "given")
    # The pin goes last: a pull cut short keeps the older pin, which the next pull still meets.
    pin_now = SignerPin(
        case_ref, str(report.signer_fingerprint), report.head_seq or 0, str(report.head_hash), how
    )
    out.write(pin_now.to_bytes(), PIN_FILE)
    result.files_written, result.files_unchanged = out.written, out.unchanged
    return result


def _refuse_unless_clean(report: VerifyReport) -> None:
    errors = [p.message for p in report.problems if p.severity == "error"]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CaseVerificationError(
            f"case {report.case_ref}: {errors[0]}{more}; nothing was written or deleted", report
        )
    if report.past_head:
        raise CaseVerificationError(
            f"case {report.case_ref}: the ledger has lines past its signed head (an interrupted "
            "append, which the bot completes at its next sealing, or lines someone else added); "
            "pull again in a few minutes; nothing was written or deleted",
            report,
        )


def _check_previous_index(out: OutputDir, report: VerifyReport) -> None:
    """An output folder holds one case: never mix another case's statements into it."""
    previous = out.previous_index()
    if previous is not None and previous.get("case_ref") != report.case_ref:
        shown = printable(previous.get("case_ref"), 64)
        raise EvidenceError(f"{out.root} holds case {shown}, not {report.case_ref}")


def _first_openable(
    spool: Spool,
    statements: list[StatementStatus],
    identities: Sequence[Any],
    case_ref: str,
) -> tuple[str | None, bytes]:
    """Find a statement the identity opens before writing anything; none → WrongIdentityError."""
    for status in statements:
        try:
            return status.statement_id, _open(spool, status, identities)
        except WrongIdentityError:
            continue
    if statements:
        raise WrongIdentityError(
            f"case {case_ref}: the identity given is not a recipient of any statement; "
            "nothing was written"
        )
    return None, b""


def _open(spool: Spool, status: StatementStatus, identities: Sequence[Any]) -> bytes:
    """Decrypt the verified bytes kept for this statement, never a fresh read of the store."""
    return unseal(spool.take(status.statement_id), identities, f"statement {status.statement_id}")


def _export(
    spool: Spool,
    status: StatementStatus,
    identities: Sequence[Any],
    report: VerifyReport,
    out: OutputDir,
    row: IndexRow,
    plaintext: bytes | None,
) -> None:
    case_ref = report.case_ref
    try:
        package = unpack(plaintext if plaintext is not None else _open(spool, status, identities))
        _check_meta(package, case_ref, status.statement_id)
    except (WrongIdentityError, PackageError) as exc:
        row.status, row.problem = "skipped", printable(exc)
        return
    meta = package.meta
    row.role = _shown(meta.get("role"))
    row.submitted_at = _shown(meta.get("submitted_at"))
    row.script_ref = _shown(meta.get("script_ref"))
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


def _shown(value: object) -> str | None:
    """A metadata field for the index: escaped, as it is printed and put in index.md."""
    return None if value is None else printable(value)
