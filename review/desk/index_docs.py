"""``index.md`` and ``index.docx``: every statement of the case by participant code and label.

For each: role (and job and agency), consent in plain words, and status: pulled, withdrawn (when,
why) or skipped (why), with dates a person reads, not microsecond UTC stamps. Text meant for
Word goes into ``index.docx`` as plain runs; the Markdown escapes only what Markdown would
otherwise turn into markup, and only in ``index.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from docx import Document

from review.desk.docx_kit import marking_header_footer, note, save
from review.desk.words import DEFAULT_MARKING, human_date, human_time

if TYPE_CHECKING:
    from review.export import IndexRow

HEADINGS = ("Code", "Label", "Role", "Consent", "Status")
WITHDRAWAL_REASONS = {"participant-request": "at the participant's request"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!~])")


def status_words(row: IndexRow) -> str:
    if row.status == "withdrawn":
        when = f" on {human_date(row.withdrawn_at)}" if row.withdrawn_at else ""
        reason = WITHDRAWAL_REASONS.get(row.withdrawal_reason or "", row.withdrawal_reason)
        return f"Withdrawn{when}" + (f" ({reason})" if reason else "") + "; not decrypted."
    if row.status == "skipped":
        return f"Skipped, not exported: {row.problem or 'no reason recorded'}"
    return f"Pulled; sealed {human_time(row.sealed_at)}."


def _role(row: IndexRow) -> str:
    detail = ", ".join(x for x in (row.job_title, row.agency) if x)
    role = row.role or "—"
    return f"{role} ({detail})" if detail else role


def _cells(row: IndexRow) -> tuple[str, ...]:
    return (
        row.code or f"statement {row.statement_id}",
        row.label or "—",
        _role(row),
        row.consent or "—",
        status_words(row),
    )


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def index_markdown(case_ref: str, signer: str | None, rows: Sequence[IndexRow]) -> str:
    lines = [
        f"# Case {case_ref}: statements",
        "",
        f"Signed by the bot key {signer or 'unknown'}. Every pulled statement was verified "
        "against the evidence ledger before it was decrypted.",
        "",
        "| " + " | ".join(HEADINGS) + " | Files | Receipt |",
        "|" + "---|" * (len(HEADINGS) + 2),
    ]
    for row in rows:
        files = f"[statement.docx]({row.statement_id}/statement.docx)" if row.code else "—"
        if row.status == "exported" and not row.code:
            files = f"[folder]({row.statement_id}/)"
        cells = [_md(c) for c in _cells(row)]
        lines.append("| " + " | ".join(cells) + f" | {files} | {row.receipt_code} |")
    return "\n".join(lines) + "\n"


def index_docx(
    case_ref: str, signer: str | None, rows: Sequence[IndexRow], marking: str = DEFAULT_MARKING
) -> bytes:
    doc = Document()
    marking_header_footer(doc, marking, f"Case {case_ref}: index of statements")
    doc.add_heading(f"Case {case_ref}: statements", level=0)
    note(
        doc.add_paragraph(),
        f"Signed by the bot key {signer or 'unknown'}. Every pulled statement was verified "
        "against the evidence ledger before it was decrypted.",
    )
    table = doc.add_table(rows=1, cols=len(HEADINGS) + 1)
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, (*HEADINGS, "Receipt"), strict=True):
        cell.paragraphs[0].add_run(heading).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, (*_cells(row), row.receipt_code), strict=True):
            cell.paragraphs[0].add_run(value)
    latest = max((r.sealed_at for r in rows), default=None)
    return save(doc, f"Case {case_ref}: statements", _parse(latest))


def _parse(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
