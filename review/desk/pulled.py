"""A pulled case as the desk sees it: the index and every exported statement, read back.

Only what ``review pull`` wrote is read, and only statements it exported (verified against the
signed ledger, then decrypted): withdrawn and skipped ones are listed, never read. A folder
holding another case, or no pull at all, is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from review.desk.model import Statement, parse_statement
from storage.evidence.common import check_ref
from storage.evidence.errors import EvidenceError, PackageError


@dataclass(frozen=True)
class PulledStatement:
    statement_id: str
    statement: Statement
    provenance: dict[str, Any]
    folder: Path

    @property
    def code(self) -> str:
        return self.statement.code

    def file(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None


@dataclass
class PulledCase:
    case_ref: str
    folder: Path
    index: dict[str, Any]
    statements: list[PulledStatement] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (statement id, why)

    @property
    def signer_fingerprint(self) -> str | None:
        value = self.index.get("signer_fingerprint")
        return str(value) if value else None

    @property
    def rows(self) -> list[dict[str, Any]]:
        rows = self.index.get("statements")
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def load_pulled(folder: Path, case_ref: str) -> PulledCase:
    """Read a pull's output folder for ``case_ref``, statements in code order."""
    check_ref(case_ref)
    try:
        index = json.loads((folder / "index.json").read_bytes())
    except FileNotFoundError:
        raise EvidenceError(
            f"{folder} holds no pulled case: run `casevoice review pull {case_ref}` first"
        ) from None
    except (OSError, ValueError) as exc:
        raise EvidenceError(f"{folder}/index.json is unreadable") from exc
    if not isinstance(index, dict) or index.get("case_ref") != case_ref:
        raise EvidenceError(f"{folder} holds case {index.get('case_ref')!s:.64}, not {case_ref}")
    case = PulledCase(case_ref, folder, index)
    for row in case.rows:
        if row.get("status") != "exported":
            continue
        sid = check_ref(str(row.get("statement_id")), "statement id")
        try:
            case.statements.append(_read(folder / sid, sid))
        except PackageError as exc:
            case.unreadable.append((sid, str(exc)))
    case.statements.sort(key=lambda s: (s.statement.meta.role or "", s.code, s.statement_id))
    return case


def _read(folder: Path, statement_id: str) -> PulledStatement:
    try:
        raw = (folder / "statement.json").read_bytes()
        provenance = json.loads((folder / "provenance.json").read_bytes())
    except (OSError, ValueError) as exc:
        raise PackageError(
            f"statement {statement_id}: pulled files are missing or unreadable"
        ) from exc
    return PulledStatement(statement_id, parse_statement(raw), provenance, folder)
