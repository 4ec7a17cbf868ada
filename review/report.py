"""What verification found: per statement and for the whole case, errors and warnings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

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
    trusted_on_first_use: bool = False
    head_seq: int | None = None
    head_hash: str | None = None
    ledger_entries: int = 0
    past_head: int = 0  # entries (or a torn line) not covered by the signed head: never acted on
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
