"""Statements and the certificate as PDF/A (WeasyPrint), for courts and information requests.

PDF/A-2b keeps a document readable for the long term: fonts embedded, colours defined by an
output intent, XMP metadata saying which part of the standard it follows. The HTML is built
here with every participant word escaped, so nothing they typed can become markup.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from weasyprint import HTML

from review.desk.answers import own_when
from review.desk.docx_kit import UNSURE
from review.desk.model import Part, Statement
from review.desk.statement_docx import BANNER, SOURCE_WORDS, cover_facts
from review.desk.words import human_time, item_ref, one_line, part_ref

PDF_VARIANT = "pdf/a-2b"
CSS = """
@page { size: A4; margin: 22mm 18mm 20mm 18mm;
  @top-center { content: "@MARKING@"; font-weight: bold; font-size: 9pt }
  @bottom-center { content: "@MARKING@ · @FOOTER@ · page " counter(page) " of " counter(pages);
    font-size: 7pt } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.35 }
h1 { font-size: 16pt } h2 { font-size: 13pt; margin-top: 1.2em } h3 { font-size: 11pt }
table.facts { border-collapse: collapse; width: 100% }
table.facts td { border: 0.5pt solid #888; padding: 2pt 4pt; vertical-align: top }
table.facts td:first-child { font-weight: bold; width: 32% }
.banner { background: #a50000; color: white; text-align: center; font-weight: bold;
  font-size: 15pt; padding: 6pt; margin: 8pt 0 }
.ref { font-weight: bold } .note { color: #555; font-style: italic; font-size: 9pt }
.warn { color: #a50000; font-weight: bold }
mark { background: #fff200; font-style: italic }
.answer { white-space: pre-wrap; margin: 2pt 0 6pt 0 }
"""


def _text(text: str, marked: bool = False) -> str:
    if not marked:
        return escape(text)
    out, at = [], 0
    for match in UNSURE.finditer(text):
        out += [escape(text[at : match.start()]), f"<mark>{escape(match.group(0))}</mark>"]
        at = match.end()
    return "".join(out) + escape(text[at:])


def _page(title: str, body: str, marking: str, footer: str) -> str:
    css = CSS.replace("@MARKING@", _css_string(marking)).replace("@FOOTER@", _css_string(footer))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f'</title><meta name="author" content="CaseVoice"><style>{css}</style></head>'
        f"<body>{body}</body></html>"
    )


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def to_pdfa(html: str) -> bytes:
    pdf: bytes = HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT)
    return pdf


def _part_html(ref: str, when: str | None, part: Part) -> str:
    last = part.versions[-1] if part.versions else None
    head = f'<span class="ref">{escape(ref)}</span> '
    if when:
        head += f"<b>{escape(one_line(when))}</b> — "
    note = ""
    if part.kind == "voice":
        note = " voice note, transcribed" + (
            "; corrected by the participant" if part.corrected else ""
        )
    elif len(part.versions) > 1:
        note = " edited by the participant"
    tail = f' <span class="note">[{note.strip()}]</span>' if note else ""
    return f'<div class="answer">{head}{_text(part.shown_text, bool(last and last.marked))}{tail}</div>'


def statement_html(
    statement: Statement,
    provenance: dict[str, Any],
    script_json: bytes | None,
    script_matches: bool,
    marking: str,
) -> str:
    code = statement.code
    body = [f"<h1>{escape(code)}: {escape(statement.title)}</h1>"]
    if not statement.consent.quote:
        body.append(f'<div class="banner">{BANNER}</div>')
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
        for k, v in cover_facts(statement, provenance)
    )
    body.append(f'<table class="facts">{rows}</table>')
    for section in statement.sections:
        body.append(f"<h2>{escape(section.title)}</h2>")
        for item in section.items:
            body.append(
                f"<h3>{escape(item_ref(code, item))} {escape(one_line(item.prompt_text))}</h3>"
            )
            if item.help:
                body.append(f'<p class="note">Hint offered: {escape(one_line(item.help))}</p>')
            if item.not_for_quoting:
                body.append(
                    '<p class="warn">NOT FOR QUOTING: the participant asked that this answer is not quoted.</p>'
                )
            if item.status != "answered":
                words = (
                    "Skipped by the participant." if item.status == "skipped" else "Not answered."
                )
                body.append(f'<p class="note">{words}</p>')
                continue
            if item.chosen:
                chosen = ", ".join(c.label for c in item.chosen)
                body.append(
                    f'<div class="answer"><span class="ref">{escape(item_ref(code, item))}</span> Chosen: {escape(chosen)}</div>'
                )
            for i, part in enumerate(item.parts, start=1):
                body.append(_part_html(part_ref(code, item, i), None, part))
            for i, event in enumerate(item.events, start=1):
                for part in event.parts:
                    body.append(
                        _part_html(part_ref(code, item, i), own_when(event.when, part.text), part)
                    )
    body.append(_versions_html(statement))
    body.append(_asked_html(statement, script_json, script_matches))
    footer = f"statement {provenance.get('statement_id', '?')} · sealed SHA-256 {str(provenance.get('sealed_sha256', '?'))[:16]}…"
    return _page(f"{code}: {statement.title}", "".join(body), marking, footer)


def _versions_html(statement: Statement) -> str:
    out = ["<h2>Appendix A: earlier versions</h2>"]
    for item in statement.items:
        numbered = [(i, p) for i, p in enumerate(item.parts, start=1)]
        numbered += [(i, p) for i, e in enumerate(item.events, start=1) for p in e.parts]
        for i, part in numbered:
            if len(part.versions) < 2:
                continue
            out.append(f"<h3>{escape(part_ref(statement.code, item, i))}</h3><ol>")
            for version in part.versions:
                by = SOURCE_WORDS.get(version.source, version.source)
                out.append(
                    f"<li><b>{escape(by)}, {escape(human_time(version.at))}:</b> "
                    f"{_text(version.marked or version.text, bool(version.marked))}</li>"
                )
            out.append("</ol>")
    if len(out) == 1:
        out.append('<p class="note">No answer was corrected or edited.</p>')
    return "".join(out)


def _asked_html(statement: Statement, script_json: bytes | None, matches: bool) -> str:
    out = ['<h2 style="page-break-before: always">Appendix B: what was asked, as shown</h2>']
    if script_json is None:
        out.append(
            '<p class="note">This statement was sealed without the script file; each question '
            "above is shown exactly as asked, with its hint.</p>"
        )
    else:
        verdict = "matches" if matches else "DOES NOT MATCH"
        out.append(
            f'<p class="note">Script {escape(statement.script_ref)}: the sealed script file '
            f"{verdict} the script hash recorded in the statement.</p>"
        )
        script = json.loads(script_json)
        number = 0
        for section in script.get("sections", []):
            out.append(f"<h3>{escape(str(section.get('title', '')))}</h3>")
            if section.get("content_note"):
                out.append(
                    f'<p class="note">Before this part: {escape(section["content_note"])}</p>'
                )
            for prompt in section.get("prompts", []):
                number += 1
                out.append(f"<p><b>¶{number}</b> {escape(str(prompt.get('text', '')))}")
                if prompt.get("help"):
                    out.append(f'<br><span class="note">Hint: {escape(prompt["help"])}</span>')
                if prompt.get("choices"):
                    labels = "; ".join(str(c.get("label", "")) for c in prompt["choices"])
                    out.append(f'<br><span class="note">Buttons: {escape(labels)}</span>')
                if prompt.get("show_if"):
                    cond = prompt["show_if"]
                    out.append(
                        f'<br><span class="note">Shown only after the answer to '
                        f"{escape(str(cond.get('prompt')))} was one of "
                        f"{escape(', '.join(cond.get('in', [])))}</span>"
                    )
                out.append("</p>")
    wording = statement.consent_wording
    out.append("<h2>Appendix C: consent wording as shown</h2>")
    if wording is None:
        out.append(
            f'<p class="note">Sealed before the wording travelled with statements: reference '
            f"{escape(statement.consent.consent_ref)}, SHA-256 {statement.consent.consent_hash}.</p>"
        )
        return "".join(out)
    verdict = "matches" if statement.wording_verified else "DOES NOT MATCH"
    out.append(f'<p class="note">The SHA-256 of this wording {verdict} the consent record.</p>')
    for message in (*wording.intro, *wording.tell_me_more):
        out.append(f'<div class="answer">{escape(message)}</div>')
    choices = statement.consent.model_dump()
    for question in wording.questions:
        answer = question.yes_label if choices.get(question.key) else question.no_label
        out.append(
            f'<div class="answer">{escape(question.text)}</div><p class="note">More: '
            f"{escape(question.more)}</p><p>Answer given: <b>{escape(answer)}</b></p>"
        )
    return "".join(out)


def certificate_html(
    lines: list[tuple[str, str]], statements: list[list[str]], marking: str, case_ref: str
) -> str:
    facts = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in lines)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in statements
    )
    body = (
        f"<h1>Certificate: statements of case {escape(case_ref)}</h1>"
        f'<table class="facts" style="font-size:8.5pt">{facts}</table>'
        '<h3>Statements in this bundle</h3><table class="facts" style="font-size:7.5pt">'
        "<tr><td>Code</td><td>Receipt</td><td>Sealed</td><td>Sealed file SHA-256</td></tr>"
        f"{rows}</table>"
    )
    return _page(f"Certificate: case {case_ref}", body, marking, f"case {case_ref} certificate")
