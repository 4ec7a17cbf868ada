"""What ``review pull`` adds beside each verified statement: ``statement.docx``, and the
index facts (code, label, role, consent) read from the statement it has just decrypted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from review.desk.model import parse_statement
from review.desk.statement_docx import statement_docx
from review.desk.words import DEFAULT_MARKING, consent_words
from storage.evidence.errors import PackageError

if TYPE_CHECKING:
    from review.export import IndexRow

RESERVED = ("statement.docx",)


def statement_documents(
    files: Mapping[str, bytes],
    provenance: dict[str, Any],
    row: IndexRow,
    marking: str = DEFAULT_MARKING,
) -> dict[str, bytes]:
    """``statement.docx`` for a statement this desk reads; nothing for other content."""
    raw = files.get("statement.json")
    if raw is None:
        return {}
    try:
        statement = parse_statement(raw)
    except PackageError:
        return {}  # verified but not a statement format this desk knows: files only
    meta = statement.meta
    row.code, row.label = statement.code, meta.label
    row.job_title, row.agency = meta.job_title, meta.agency
    row.consent = consent_words(statement.consent)
    return {"statement.docx": statement_docx(statement, provenance, marking)}
