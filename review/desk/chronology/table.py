"""The chronology's rows: every dated mention in the statements, plus agency chronologies.

Each dated mention becomes a row with its normalised date and precision, the words used, who
said it (code, role, agency), its reference and the whole sentence. Mentions that cannot be
dated without guessing, and key-contact events given without a date, go to the undated list
with the reason. Rows are sorted by the first day the date can mean, then by precision.

``--merge agency.csv`` adds agency chronologies in the common layout (date, agency, event,
source); their dates go through the same reading, so "Spring 2023" there is a season too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass, fields
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from review.desk.answers import pieces
from review.desk.chronology.resolve import PRECISE, AnswerResolver, resolve_text, sentences
from review.desk.pulled import PulledCase, PulledStatement
from review.desk.stable import stable_zip
from review.desk.words import one_line
from storage.evidence.errors import EvidenceError

AGENCY_COLUMNS = ("date", "agency", "event", "source")


@dataclass(frozen=True)
class Row:
    normalised: str
    precision: str
    wording: str
    code: str
    role: str
    agency: str
    reference: str
    sentence: str
    resolved: str  # how a date not stated in full was worked out
    not_for_quoting: str  # "yes" where the participant asked not to be quoted
    sort: date


@dataclass(frozen=True)
class Undated:
    wording: str
    why: str
    code: str
    role: str
    agency: str
    reference: str
    sentence: str


@dataclass
class Chronology:
    rows: list[Row]
    undated: list[Undated]


def _who(pulled: PulledStatement) -> tuple[str, str, str]:
    meta = pulled.statement.meta
    return pulled.code, meta.role or "", meta.agency or ""


def _statement(pulled: PulledStatement) -> Iterator[Row | Undated]:
    code, role, agency = _who(pulled)
    for item in pulled.statement.items:
        resolver = AnswerResolver()  # one answer = one context for anchors
        for piece in pieces(pulled.statement, item):
            if piece.kind == "choice":
                continue
            found = False
            for sentence in sentences(piece.text):
                for r in resolver.sentence(sentence):
                    found = True
                    base = (code, role, agency, piece.ref, one_line(r.sentence))
                    if r.dated is None:
                        yield Undated(r.mention.wording, r.problem or "", *base)
                        continue
                    yield Row(
                        r.dated.normalised,
                        r.dated.precision,
                        r.mention.wording,
                        *base,
                        r.dated.how,
                        "yes" if item.not_for_quoting else "",
                        r.dated.value,
                    )
            if piece.kind == "event" and not found:
                yield Undated(
                    "", "no date given", code, role, agency, piece.ref, one_line(piece.text)
                )


def chronology(case: PulledCase, merge: Iterable[Path] = ()) -> Chronology:
    rows: list[Row] = []
    undated: list[Undated] = []
    for pulled in case.statements:
        for entry in _statement(pulled):
            if isinstance(entry, Row):
                rows.append(entry)
            else:
                undated.append(entry)
    for path in merge:
        merged, left = read_agency_csv(path)
        rows += merged
        undated += left
    rows.sort(key=lambda r: (r.sort, PRECISE.get(r.precision, 9), r.code, r.reference))  # type: ignore[call-overload]
    return Chronology(rows, undated)


def read_agency_csv(path: Path) -> tuple[list[Row], list[Undated]]:
    """An agency chronology in the common layout: date, agency, event, source."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"agency chronology {path} cannot be read") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if not set(AGENCY_COLUMNS) <= set(header):
        raise EvidenceError(f"{path.name}: columns must include {', '.join(AGENCY_COLUMNS)}")
    rows: list[Row] = []
    undated: list[Undated] = []
    for line, raw in enumerate(reader, start=2):
        record = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        source = record["source"] or f"{path.name} line {line}"
        found = [r for r in resolve_text(record["date"]) if r.dated is not None]
        if len(found) != 1 or found[0].dated is None:
            why = "no date given" if not record["date"] else "not one clear date"
            undated.append(
                Undated(
                    record["date"], why, "", "agency", record["agency"], source, record["event"]
                )
            )
            continue
        dated = found[0].dated
        rows.append(
            Row(
                dated.normalised,
                dated.precision,
                record["date"],
                "",
                "agency",
                record["agency"],
                source,
                one_line(record["event"]),
                "",
                "",
                dated.value,
            )
        )
    return rows, undated


ROW_HEADINGS = (
    "Date", "Precision", "Original wording", "Code", "Role", "Agency", "Reference", "Sentence",
    "How the date was worked out", "Not for quoting",
)  # fmt: skip
UNDATED_HEADINGS = ("Wording", "Why not dated", "Code", "Role", "Agency", "Reference", "Sentence")


def _row_cells(row: Row) -> tuple[str, ...]:
    return tuple(str(v) for v in astuple(row)[: len(fields(Row)) - 1])


def to_csv(headings: tuple[str, ...], records: Iterable[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headings)
    for record in records:
        writer.writerow([_safe_cell(v) for v in record])
    return buffer.getvalue().encode("utf-8-sig")


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (participants' words are data)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def write(chron: Chronology, out: Path) -> list[Path]:
    """``<out>.csv``, ``<out>-undated.csv`` and ``<out>.xlsx`` (two sheets)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.with_name(out.name + ".csv")
    undated_path = out.with_name(out.name + "-undated.csv")
    xlsx_path = out.with_name(out.name + ".xlsx")
    csv_path.write_bytes(to_csv(ROW_HEADINGS, (_row_cells(r) for r in chron.rows)))
    undated_path.write_bytes(to_csv(UNDATED_HEADINGS, (astuple(u) for u in chron.undated)))
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = "Chronology"
    _fill(sheet, ROW_HEADINGS, [_row_cells(r) for r in chron.rows])
    _fill(
        book.create_sheet("Undated or ambiguous"),
        UNDATED_HEADINGS,
        [astuple(u) for u in chron.undated],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx_path.write_bytes(stable_zip(buffer.getvalue()))
    return [csv_path, undated_path, xlsx_path]


def _fill(sheet: Worksheet, headings: tuple[str, ...], records: list[tuple[str, ...]]) -> None:
    sheet.append(list(headings))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in records:
        sheet.append([_safe_cell(v) for v in record])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
