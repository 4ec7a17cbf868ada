"""``review export --format qdpx``: a REFI-QDA 1.0 project (NVivo, ATLAS.ti, MAXQDA, QualCoder).

The ``.qdpx`` is a ZIP of ``project.qde`` (QDA-XML, namespace ``urn:QDA-XML:project:1.0``) and
``Sources/<guid>.txt``. What the reviewer gets:

* each statement as a text source (UTF-8), every answer under its question with references;
* a code per prompt, grouped under a code per section, under a code per script, and every
  answer already coded with its prompt's code (one selection per part, event or choice);
* a case per participant (code, role and agency) with the consent choices, label, role, job
  title and agency as variables.

Positions are character offsets (Unicode code points) into the source text, as the standard
says. GUIDs are derived from the case and statement, so exporting twice gives the same project.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree import ElementTree as ET  # noqa: S405 - writing only, never parsing

from review.desk.answers import pieces
from review.desk.model import Statement
from review.desk.pulled import PulledCase, PulledStatement
from review.desk.words import item_ref, one_line

NS = "urn:QDA-XML:project:1.0"
_ROOT = uuid.UUID("6f1c3b0e-3d6a-4c57-9a55-1d4b1f0c2a7e")  # CaseVoice's namespace for GUIDs
VARIABLES = (
    ("Participant code", "Text"),
    ("Label", "Text"),
    ("Role", "Text"),
    ("Job title", "Text"),
    ("Agency", "Text"),
    ("Consent: take part", "Boolean"),
    ("Consent: be quoted", "Boolean"),
    ("Consent: anonymised quotes in the published report", "Boolean"),
)


def guid(*parts: str) -> str:
    return str(uuid.uuid5(_ROOT, "|".join(parts)))


def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Source:
    text: str = ""
    selections: list[tuple[str, int, int, str]] = field(
        default_factory=list
    )  # ref, start, end, code

    def add(self, text: str) -> tuple[int, int]:
        start = len(self.text)
        self.text += text
        return start, len(self.text)


def _source_text(statement: Statement, codes: dict[tuple[str, str], str]) -> _Source:
    source = _Source()
    meta = statement.meta
    source.add(f"{statement.code}: {statement.title}\n")
    for label, value in (
        ("Label", meta.label),
        ("Role", meta.role),
        ("Job title", meta.job_title),
        ("Agency", meta.agency),
    ):
        if value:
            source.add(f"{label}: {one_line(value)}\n")
    for section in statement.sections:
        source.add(f"\n{section.title}\n")
        for item in section.items:
            source.add(f"\n{item_ref(statement.code, item)} {one_line(item.prompt_text)}\n")
            if item.not_for_quoting:
                source.add("[The participant asked that this answer is not quoted.]\n")
            if item.status != "answered":
                source.add("(skipped)\n" if item.status == "skipped" else "(not answered)\n")
                continue
            code = codes[(statement.script_id, item.prompt_id)]
            for piece in pieces(statement, item):
                source.add(f"{piece.ref} ")
                body = f"{one_line(piece.when)}: {piece.text}" if piece.when else piece.text
                if piece.kind == "choice":
                    body = f"Chosen: {body}"
                start, end = source.add(body)
                source.add("\n")
                source.selections.append((piece.ref, start, end, code))
    return source


def _codebook(project: ET.Element, case: PulledCase) -> dict[tuple[str, str], str]:
    """Script → section → prompt codes; returns the prompt codes' GUIDs."""
    codes = _el(_el(project, "CodeBook"), "Codes")
    out: dict[tuple[str, str], str] = {}
    scripts: dict[str, ET.Element] = {}
    sections: dict[tuple[str, str], ET.Element] = {}
    for pulled in case.statements:
        statement = pulled.statement
        sid = statement.script_id
        if sid not in scripts:
            scripts[sid] = _el(
                codes, "Code", guid=guid("script", sid), name=statement.title, isCodable="false"
            )
        for section in statement.sections:
            key = (sid, section.id)
            if key not in sections:
                sections[key] = _el(
                    scripts[sid],
                    "Code",
                    guid=guid("section", *key),
                    name=section.title,
                    isCodable="false",
                )
            for item in section.items:
                if (sid, item.prompt_id) in out:
                    continue
                number = item.paragraph if item.paragraph is not None else item.number
                code = _el(
                    sections[key],
                    "Code",
                    guid=guid("prompt", sid, item.prompt_id),
                    name=f"¶{number} {one_line(item.prompt_text)}"[:250],
                    isCodable="true",
                )
                ET.SubElement(code, f"{{{NS}}}Description").text = one_line(item.prompt_text)
                out[(sid, item.prompt_id)] = code.get("guid", "")
    if not scripts:
        _el(codes, "Code", guid=guid("none"), name="No statements", isCodable="false")
    return out


def _values(parent: ET.Element, pulled: PulledStatement) -> None:
    meta, consent = pulled.statement.meta, pulled.statement.consent
    values: list[str | bool | None] = [
        pulled.code,
        meta.label,
        meta.role,
        meta.job_title,
        meta.agency,
        consent.take_part,
        consent.quote,
        consent.anonymised_publication,
    ]
    for (name, kind), value in zip(VARIABLES, values, strict=True):
        if value is None:
            continue
        element = _el(parent, "VariableValue")
        _el(element, "VariableRef", targetGUID=guid("variable", name))
        if kind == "Boolean":
            _el(element, "BooleanValue").text = "true" if value else "false"
        else:
            _el(element, "TextValue").text = str(value)


def qdpx(case: PulledCase, exported_at: datetime) -> bytes:
    ET.register_namespace("", NS)
    stamp = _stamp(exported_at)
    user = guid("user", "casevoice")
    project = ET.Element(
        f"{{{NS}}}Project",
        {
            "name": f"Case {case.case_ref}",
            "origin": "CaseVoice",
            "creatingUserGUID": user,
            "creationDateTime": stamp,
        },
    )
    _el(_el(project, "Users"), "User", guid=user, name="CaseVoice")
    codes = _codebook(project, case)
    variables = _el(project, "Variables")
    for name, kind in VARIABLES:
        _el(variables, "Variable", guid=guid("variable", name), name=name, typeOfVariable=kind)
    texts: dict[str, str] = {}
    if case.statements:
        cases = _el(project, "Cases")
        for pulled in case.statements:
            meta = pulled.statement.meta
            name = " · ".join(x for x in (pulled.code, meta.role, meta.agency) if x)
            element = _el(cases, "Case", guid=guid("case", pulled.statement_id), name=name)
            _values(element, pulled)
            _el(element, "SourceRef", targetGUID=guid("source", pulled.statement_id))
        sources = _el(project, "Sources")
        for pulled in case.statements:
            source_guid = guid("source", pulled.statement_id)
            source = _source_text(pulled.statement, codes)
            texts[source_guid] = source.text
            element = _el(
                sources,
                "TextSource",
                guid=source_guid,
                name=" ".join(x for x in (pulled.code, pulled.statement.meta.label) if x),
                plainTextPath=f"internal://{source_guid}.txt",
                creatingUser=user,
                creationDateTime=_stamp(pulled.statement.meta.assembled_at),
            )
            for ref, start, end, code in source.selections:
                selection = _el(
                    element,
                    "PlainTextSelection",
                    guid=guid("selection", pulled.statement_id, ref),
                    name=ref,
                    startPosition=str(start),
                    endPosition=str(end),
                    creatingUser=user,
                    creationDateTime=stamp,
                )
                coding = _el(
                    selection,
                    "Coding",
                    guid=guid("coding", pulled.statement_id, ref),
                    creatingUser=user,
                    creationDateTime=stamp,
                )
                _el(coding, "CodeRef", targetGUID=code)
            _values(element, pulled)
    _el(project, "Description").text = (
        f"Statements of case {case.case_ref}, pulled and verified with CaseVoice. Every answer "
        "is coded with its question; codes are grouped by the script's sections."
    )
    xml = ET.tostring(project, encoding="utf-8", xml_declaration=True)
    buffer = io.BytesIO()
    stamp_zip = (2000, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("project.qde", stamp_zip), xml)
        for source_guid, text in texts.items():
            archive.writestr(
                zipfile.ZipInfo(f"Sources/{source_guid}.txt", stamp_zip), text.encode("utf-8")
            )
    return buffer.getvalue()
