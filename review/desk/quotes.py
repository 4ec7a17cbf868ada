"""``review quotes``: only what each person's consent allows, never a refused word.

Two sets, each as CSV and Word:

* ``attributed``: quotes described by role ("a health visitor", "the child's mother"), only
  from people who agreed to be quoted, for the report to the partnership;
* ``published``: anonymised extracts, only from people who agreed to anonymised quotes in the
  published report, with the pseudonym map applied and remaining identifiers flagged.

Answers the participant marked "not for quoting" are never in either. ``redaction-log.csv``
records every change made and every flag raised, for the reviewer to confirm; ``excluded.csv``
says whose answers were left out and why (codes and reasons only, no words).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from docx import Document

from review.desk.anonymise import anonymise
from review.desk.answers import pieces
from review.desk.docx_kit import add_text, marking_header_footer, note, save
from review.desk.pulled import PulledCase, PulledStatement
from review.desk.words import DEFAULT_MARKING, one_line


@dataclass(frozen=True)
class Quote:
    ref: str
    described_as: str
    question: str
    text: str
    flags: str = ""


def described_as(pulled: PulledStatement, *, published: bool) -> str:
    """How the person may be described: by role, never by name."""
    meta = pulled.statement.meta
    if meta.role == "professional":
        if published:
            return "a professional"
        return f"a {meta.job_title.lower()}" if meta.job_title else "a professional"
    if published:
        return "a family member"
    return f"a family member ({meta.label})" if meta.label else "a family member"


def _quotable(pulled: PulledStatement) -> list[tuple[str, str, str]]:
    """(reference, question, text) of every typed or spoken piece that may be quoted."""
    out = []
    for item in pulled.statement.items:
        if item.not_for_quoting or item.field is not None:
            continue  # marked by the participant, or a fact (job title, agency), not words
        for piece in pieces(pulled.statement, item):
            if piece.kind != "choice" and piece.text.strip():
                out.append((piece.ref, one_line(item.prompt_text), piece.text))
    return out


@dataclass
class QuoteSets:
    attributed: list[Quote]
    published: list[Quote]
    log: list[tuple[str, str, str, str]]  # reference, kind, original, replacement or flag
    excluded: list[tuple[str, str]]  # code or reference, reason


def quote_sets(case: PulledCase, pseudonyms: list[tuple[str, str]]) -> QuoteSets:
    sets = QuoteSets([], [], [], [])
    for pulled in case.statements:
        consent = pulled.statement.consent
        if not consent.quote:
            sets.excluded.append((pulled.code, "did not agree to be quoted"))
        if not consent.anonymised_publication:
            sets.excluded.append((pulled.code, "did not agree to quotes in the published report"))
        sets.excluded += [
            (f"{pulled.code} ¶{i.paragraph or i.number}", "answer marked not for quoting")
            for i in pulled.statement.items
            if i.not_for_quoting
        ]
        for ref, question, text in _quotable(pulled):
            if consent.take_part and consent.quote:
                who = described_as(pulled, published=False)
                sets.attributed.append(Quote(ref, who, question, text))
            if consent.take_part and consent.anonymised_publication:
                done = anonymise(text, pseudonyms)
                flags = "; ".join(f"{f.kind}: {f.text}" for f in done.flags)
                who = described_as(pulled, published=True)
                sets.published.append(Quote(ref, who, question, done.text, flags))
                sets.log += [(ref, c.kind, c.original, c.replacement) for c in done.changes]
                sets.log += [
                    (ref, f"flag: {f.kind}", f.text, "reviewer to confirm") for f in done.flags
                ]
    return sets


def _csv(headings: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headings)
    for row in rows:
        writer.writerow(["'" + v if v[:1] in ("=", "+", "-", "@") else v for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _docx(title: str, intro: str, quotes: list[Quote], marking: str) -> bytes:
    doc = Document()
    marking_header_footer(doc, marking, title)
    doc.add_heading(title, level=0)
    note(doc.add_paragraph(), intro)
    for quote in quotes:
        paragraph = doc.add_paragraph(style="Quote")
        add_text(paragraph, f"“{quote.text}”")
        source = doc.add_paragraph()
        source.add_run(f"— {quote.described_as} ({quote.ref})").bold = True
        note(source, f"  Asked: {quote.question}")
        if quote.flags:
            note(doc.add_paragraph(), f"Check before use: {quote.flags}")
    if not quotes:
        note(doc.add_paragraph(), "No answer may be quoted here.")
    return save(doc, title, None)


def write_quotes(
    case: PulledCase,
    out: Path,
    pseudonyms: list[tuple[str, str]],
    marking: str = DEFAULT_MARKING,
) -> list[Path]:
    sets = quote_sets(case, pseudonyms)
    out.mkdir(parents=True, exist_ok=True)
    heads = ("Reference", "Described as", "Question", "Quote")
    files = {
        "attributed.csv": _csv(
            heads, [(q.ref, q.described_as, q.question, q.text) for q in sets.attributed]
        ),
        "attributed.docx": _docx(
            f"Case {case.case_ref}: quotes for the report to the partnership",
            "Only from people who agreed to be quoted, described by role. Answers marked "
            "'not for quoting' are left out.",
            sets.attributed,
            marking,
        ),
        "published.csv": _csv(
            (*heads, "Check before use"),
            [(q.ref, q.described_as, q.question, q.text, q.flags) for q in sets.published],
        ),
        "published.docx": _docx(
            f"Case {case.case_ref}: anonymised extracts for the published report",
            "Only from people who agreed to anonymised quotes in the published report, with the "
            "pseudonym map applied. Confirm every flag before use.",
            sets.published,
            marking,
        ),
        "redaction-log.csv": _csv(("Reference", "What", "Original", "Replaced by"), sets.log),
        "excluded.csv": _csv(("Who", "Why left out"), sets.excluded),
    }
    paths = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths
