"""Small python-docx helpers shared by the statement and index documents."""

from __future__ import annotations

import io
import re
from datetime import datetime

from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from review.desk.stable import stable_zip

GREY = RGBColor(0x59, 0x59, 0x59)
RED = RGBColor(0xA5, 0x00, 0x00)
# The transcriber's mark for a word it was unsure of: "[went round?]".
UNSURE = re.compile(r"\[([^\[\]\n]+?)\?\]")


def marking_header_footer(doc: DocumentObject, marking: str, footer: str) -> None:
    """The protective marking at the top and bottom of every page, and a footer line."""
    section = doc.sections[0]
    head = section.header.paragraphs[0]
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(marking)
    run.bold = True
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    mark = foot.add_run(marking)
    mark.bold = True
    mark.font.size = Pt(8)
    line = section.footer.add_paragraph()
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    detail = line.add_run(f"{footer} · page ")
    detail.font.size = Pt(7)
    page = OxmlElement("w:fldSimple")
    page.set(qn("w:instr"), "PAGE")
    number = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    number.append(text)
    page.append(number)
    line._p.append(page)


def shade(cell: _Cell, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def add_text(paragraph: Paragraph, text: str, *, marked: bool = False) -> None:
    """Text as runs, line breaks kept; with ``marked``, uncertain words highlighted."""
    for number, line in enumerate(text.split("\n")):
        if number:
            paragraph.add_run().add_break()
        if not marked:
            paragraph.add_run(line)
            continue
        at = 0
        for match in UNSURE.finditer(line):
            if match.start() > at:
                paragraph.add_run(line[at : match.start()])
            run = paragraph.add_run(match.group(0))
            run.italic = True
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            at = match.end()
        if at < len(line):
            paragraph.add_run(line[at:])


def note(paragraph: Paragraph, text: str, *, color: RGBColor = GREY, bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.italic = not bold
    run.bold = bold
    run.font.size = Pt(9)
    run.font.color.rgb = color


def save(doc: DocumentObject, title: str, when: datetime | None) -> bytes:
    """The document's bytes, stamped with ``when`` so the same content gives the same file."""
    props = doc.core_properties
    props.title = title
    props.author = "CaseVoice"
    props.last_modified_by = "CaseVoice"
    props.comments = ""
    props.revision = 1
    if when is not None:
        props.created = props.modified = when.replace(tzinfo=None)
    buffer = io.BytesIO()
    doc.save(buffer)
    return stable_zip(buffer.getvalue(), when)
