"""Writing pulled statements to the reviewer's disk: atomic, 0600, skip-unchanged, contained.

Every write is atomic (temp file, fsync, rename), so an interrupted pull leaves whole files
only, and a file whose bytes are unchanged is not rewritten, so a second pull changes nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from review.desk.index_docs import index_docx, index_markdown
from review.desk.words import DEFAULT_MARKING
from storage.evidence.common import FORMAT_VERSION, canonical_json, check_ref
from storage.evidence.errors import EvidenceError
from storage.evidence.package import check_file_name
from storage.files import atomic_write, ensure_dir

INDEX_JSON = "index.json"
INDEX_MD = "index.md"
INDEX_DOCX = "index.docx"


@dataclass
class IndexRow:
    statement_id: str
    status: str  # exported | withdrawn | skipped
    receipt_code: str
    ledger_seq: int
    sealed_at: str
    role: str | None = None
    submitted_at: str | None = None
    script_ref: str | None = None
    withdrawn_at: str | None = None
    withdrawal_reason: str | None = None
    problem: str | None = None
    files: list[str] = field(default_factory=list)
    # From the decrypted statement (None for withdrawn and skipped ones, never decrypted).
    code: str | None = None
    label: str | None = None
    job_title: str | None = None
    agency: str | None = None
    consent: str | None = None


class OutputDir:
    """The reviewer's output directory for one case."""

    def __init__(self, root: Path, marking: str = DEFAULT_MARKING) -> None:
        self.root = Path(root)
        self.marking = marking
        self.written = 0
        self.unchanged = 0

    def _inside(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise EvidenceError(f"output path {'/'.join(parts)} leaves the output directory")
        return path

    def write(self, data: bytes, *parts: str) -> None:
        path = self._inside(*parts)
        if path.is_file() and path.read_bytes() == data:
            self.unchanged += 1
            return
        ensure_dir(path.parent)
        atomic_write(path, data)
        self.written += 1

    def write_statement(self, statement_id: str, files: dict[str, bytes]) -> None:
        for name, data in sorted(files.items()):
            self.write(
                data, check_ref(statement_id, "statement id"), *check_file_name(name).split("/")
            )

    def remove_statement(self, statement_id: str) -> bool:
        """Remove a previously exported statement (it has been withdrawn)."""
        path = self._inside(check_ref(statement_id, "statement id"))
        if path.is_symlink():
            path.unlink()
            return True
        if path.is_dir():
            shutil.rmtree(path)
            return True
        return False

    def previous_index(self) -> dict[str, Any] | None:
        path = self.root / INDEX_JSON
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise EvidenceError(f"{path} is unreadable; move it away and pull again") from exc
        return data if isinstance(data, dict) else None

    def write_index(
        self, case_ref: str, signer: str | None, head_seq: int | None, rows: Sequence[IndexRow]
    ) -> None:
        index = {
            "version": FORMAT_VERSION,
            "case_ref": case_ref,
            "signer_fingerprint": signer,
            "ledger_head_seq": head_seq,
            "statements": [asdict(row) for row in rows],
        }
        ensure_dir(self.root)
        self.write(canonical_json(index) + b"\n", INDEX_JSON)
        self.write(index_markdown(case_ref, signer, rows).encode("utf-8"), INDEX_MD)
        self.write(index_docx(case_ref, signer, rows, self.marking), INDEX_DOCX)
