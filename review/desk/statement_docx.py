"""``statement.docx``: one statement as a Word document a review panel can cite and file.

Built from ``statement.json`` (never from the Markdown), so no Markdown escape ever reaches
Word. Layout: protective marking on every page; a cover block of facts (who, when, which
script, consent and its exact wording, signer and hash); a banner when the person did not
agree to be quoted; then each prompt as a heading with the answers under their references;
earlier versions (what the transcriber heard, earlier edits) and the consent wording in
appendices. Footer: statement id and the sealed file's hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

from review.desk.answers import own_when
from review.desk.docx_kit import GREY, RED, add_text, marking_header_footer, note, save, shade
from review.desk.model import Item, Part, Statement
from review.desk.words import (
    DEFAULT_MARKING,
    consent_words,
    human_time,
    item_ref,
    one_line,
    part_ref,
)

BANNER = "QUOTES: NOT PERMITTED"
SOURCE_WORDS = {
    "typed": "typed by the participant",
    "transcript": "what the transcriber heard",
    "correction": "corrected by the participant",
}


def statement_docx(
    statement: Statement, provenance: dict[str, Any], marking: str = DEFAULT_MARKING
) -> bytes:
    doc = Document()
    sealed = _sealed_at(provenance)
    marking_header_footer(
        doc,
        marking,
        f"Statement {provenance.get('statement_id', '?')} · "
        f"sealed file SHA-256 {provenance.get('sealed_sha256', '?')}",
    )
    doc.add_heading(f"{statement.code}: {statement.title}", level=0)
    if not statement.consent.quote:
        _banner(doc, BANNER, "The participant did not agree to be quoted. Cite, do not quote.")
    _cover(doc, statement, provenance)
    if any(p.versions[-1].marked for i in statement.items for p in _parts(i)):
        note(
            doc.add_paragraph(),
            "Highlighted words in [brackets?] are ones the transcriber was unsure it heard "
            "right; the participant saw them marked so and confirmed the text.",
        )
    for section in statement.sections:
        doc.add_heading(section.title, level=1)
        for item in section.items:
            _item(doc, statement, item)
    _earlier_versions(doc, statement)
    _consent_wording(doc, statement)
    return save(doc, f"{statement.code}: {statement.title}", sealed)


def _sealed_at(provenance: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(provenance.get("sealed_at")))
    except ValueError:
        return None


def _banner(doc: DocumentObject, text: str, explanation: str) -> None:
    table = doc.add_table(rows=1, cols=1)
    cell = table.rows[0].cells[0]
    shade(cell, "A50000")
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(16)
    run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    detail = cell.add_paragraph()
    detail.alignment = WD_ALIGN_PARAGRAPH.CENTER
    small = detail.add_run(explanation)
    small.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    doc.add_paragraph()


def cover_facts(statement: Statement, provenance: dict[str, Any]) -> list[tuple[str, str]]:
    """The cover block as (label, value) pairs: shared by the Word and PDF statements."""
    meta, consent = statement.meta, statement.consent
    wording = (
        "shown in Appendix B; its SHA-256 matches the consent record"
        if statement.wording_verified
        else "DOES NOT MATCH the consent record's hash; see Appendix B"
        if statement.consent_wording is not None
        else "not carried by this statement (sealed before wording travelled with it)"
    )
    facts = [
        ("Case", meta.case_id),
        ("Participant code", statement.code),
        ("Reviewer's label", meta.label or "—"),
        ("Role", meta.role or "—"),
    ]
    if meta.role == "professional" or meta.job_title or meta.agency:
        facts += [("Job title", meta.job_title or "—"), ("Agency", meta.agency or "—")]
    facts += [
        ("Date sealed", human_time(provenance.get("sealed_at"))),
        ("Statement assembled", human_time(meta.assembled_at)),
        ("Script version", statement.script_ref),
        ("Consent choices", consent_words(consent)),
        ("Consent given", f"{human_time(consent.decided_at)} ({consent.consent_ref})"),
        ("Consent wording", wording),
        ("Signer (bot key)", str(provenance.get("signer_fingerprint") or "—")),
        ("Sealed file SHA-256", str(provenance.get("sealed_sha256", "—"))),
        ("Receipt code", str(provenance.get("receipt_code", "—"))),
        ("Ledger entry", str(provenance.get("ledger_seq", "—"))),
        ("Statement id", str(provenance.get("statement_id", "—"))),
    ]
    return facts


def _cover(doc: DocumentObject, statement: Statement, provenance: dict[str, Any]) -> None:
    facts = cover_facts(statement, provenance)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in facts:
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(label).bold = True
        cells[1].paragraphs[0].add_run(value)
    doc.add_paragraph()


def _parts(item: Item) -> Iterator[Part]:
    yield from item.parts
    for event in item.events:
        yield from event.parts


def _item(doc: DocumentObject, statement: Statement, item: Item) -> None:
    code = statement.code
    doc.add_heading(f"{item_ref(code, item)}  {one_line(item.prompt_text)}", level=2)
    if item.help:
        note(doc.add_paragraph(), f"Hint offered: {one_line(item.help)}")
    if item.not_for_quoting:
        note(
            doc.add_paragraph(),
            "NOT FOR QUOTING: the participant asked that this answer is not quoted.",
            color=RED,
            bold=True,
        )
    if item.status != "answered":
        words = "Skipped by the participant." if item.status == "skipped" else "Not answered."
        note(doc.add_paragraph(), words)
        return
    if item.chosen:
        paragraph = doc.add_paragraph()
        paragraph.add_run(item_ref(code, item) + "  ").bold = True
        paragraph.add_run("Chosen: " + ", ".join(c.label for c in item.chosen))
    for index, part in enumerate(item.parts, start=1):
        _part(doc, part_ref(code, item, index), None, part)
    for index, event in enumerate(item.events, start=1):
        for part in event.parts:
            _part(doc, part_ref(code, item, index), own_when(event.when, part.text), part)


def _part(doc: DocumentObject, ref: str, when: str | None, part: Part) -> None:
    paragraph = doc.add_paragraph()
    paragraph.add_run(ref + "  ").bold = True
    if when is not None:
        paragraph.add_run(one_line(when)).bold = True
        paragraph.add_run(" — ")
    last = part.versions[-1] if part.versions else None
    add_text(paragraph, part.shown_text, marked=bool(last and last.marked))
    if part.kind == "voice":
        words = "voice note, transcribed"
        if part.corrected:
            words += "; corrected by the participant (what was heard: Appendix A)"
        note(paragraph, f"  [{words}]")
    elif len(part.versions) > 1:
        note(paragraph, "  [edited by the participant; earlier text: Appendix A]")


def _earlier_versions(doc: DocumentObject, statement: Statement) -> None:
    rows = []
    for item in statement.items:
        numbered = [(i, p) for i, p in enumerate(item.parts, start=1)]
        numbered += [(i, p) for i, e in enumerate(item.events, start=1) for p in e.parts]
        rows += [(part_ref(statement.code, item, i), p) for i, p in numbered if len(p.versions) > 1]
    doc.add_page_break()  # type: ignore[no-untyped-call]
    doc.add_heading("Appendix A: earlier versions", level=1)
    if not rows:
        note(doc.add_paragraph(), "No answer was corrected or edited.")
        return
    note(
        doc.add_paragraph(),
        "Each answer above shows the participant's final text. Here is every earlier version, "
        "oldest first, with who wrote it and when.",
    )
    for ref, part in rows:
        doc.add_heading(ref, level=3)
        for number, version in enumerate(part.versions, start=1):
            paragraph = doc.add_paragraph(style="List Number")
            by = SOURCE_WORDS.get(version.source, version.source)
            model = f", {version.model_id}" if version.model_id else ""
            paragraph.add_run(
                f"Version {number} ({by}{model}, {human_time(version.at)}): "
            ).bold = True
            add_text(paragraph, version.marked or version.text, marked=bool(version.marked))


def _consent_wording(doc: DocumentObject, statement: Statement) -> None:
    doc.add_heading("Appendix B: consent wording as shown", level=1)
    wording = statement.consent_wording
    if wording is None:
        note(
            doc.add_paragraph(),
            f"This statement was sealed before the wording travelled with it; the consent "
            f"record names the wording by reference {statement.consent.consent_ref} and SHA-256 "
            f"{statement.consent.consent_hash}.",
        )
        return
    verdict = (
        "The SHA-256 of this wording matches the hash in the consent record."
        if statement.wording_verified
        else "WARNING: the SHA-256 of this wording does not match the consent record."
    )
    note(doc.add_paragraph(), verdict, color=GREY if statement.wording_verified else RED)
    doc.add_heading("Introduction", level=2)
    for message in wording.intro:
        add_text(doc.add_paragraph(), message)
    doc.add_heading("More information (offered with “Tell me more”)", level=2)
    for message in wording.tell_me_more:
        add_text(doc.add_paragraph(), message)
    doc.add_heading("The consent questions and the answers given", level=2)
    choices = statement.consent.model_dump()
    for question in wording.questions:
        add_text(doc.add_paragraph(), question.text)
        note(doc.add_paragraph(), f"More: {question.more}")
        given = choices.get(question.key)
        answer = question.yes_label if given else question.no_label
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"Buttons: “{question.yes_label}” / “{question.no_label}”. ")
        paragraph.add_run(f"Answer: “{answer}”.").bold = True
