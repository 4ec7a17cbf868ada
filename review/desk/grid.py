"""``review grid``: answers side by side, one sheet per script, and choices tallied by agency.

Rows are the script's prompts in their fixed order (with the paragraph number used in
references); columns are participants (code, label, agency). A second sheet per script counts
the choice answers (supervision, workload, information sharing, …) by agency, so the panel can
see at a glance where experience differed.
"""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from review.desk.answers import answer_text
from review.desk.model import Item
from review.desk.pulled import PulledCase, PulledStatement
from review.desk.stable import stable_zip
from review.desk.words import one_line

WRAP = Alignment(wrap_text=True, vertical="top")
BOLD = Font(bold=True)
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _by_script(case: PulledCase) -> dict[str, list[PulledStatement]]:
    groups: dict[str, list[PulledStatement]] = defaultdict(list)
    for pulled in case.statements:
        groups[pulled.statement.script_ref].append(pulled)
    return dict(sorted(groups.items()))


def _sheet_name(base: str, used: set[str]) -> str:
    name = _SHEET_BAD.sub("-", base)[:31]
    n = 2
    while name in used:
        suffix = f" ({n})"
        name = _SHEET_BAD.sub("-", base)[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name


def _heading(pulled: PulledStatement) -> str:
    meta = pulled.statement.meta
    return "\n".join(x for x in (pulled.code, meta.label, meta.job_title, meta.agency) if x)


def _prompts(group: list[PulledStatement]) -> list[tuple[int, str, str, str]]:
    """(order, prompt id, section title, prompt text) for every prompt any of them was shown."""
    seen: dict[str, tuple[int, str, str, str]] = {}
    for pulled in group:
        for section in pulled.statement.sections:
            for item in section.items:
                order = item.paragraph if item.paragraph is not None else item.number
                seen.setdefault(
                    item.prompt_id, (order, item.prompt_id, section.title, item.prompt_text)
                )
    return sorted(seen.values())


def _answers_sheet(sheet: Worksheet, group: list[PulledStatement]) -> None:
    sheet.append(["¶", "Section", "Question", *(_heading(p) for p in group)])
    for cell in sheet[1]:
        cell.font, cell.alignment = BOLD, WRAP
    by_prompt = [{i.prompt_id: i for i in p.statement.items} for p in group]
    for order, prompt_id, section, text in _prompts(group):
        cells: list[str | int] = [order, section, one_line(text)]
        for pulled, items in zip(group, by_prompt, strict=True):
            item = items.get(prompt_id)
            cells.append("(not shown)" if item is None else _cell(pulled, item))
        sheet.append(cells)
    sheet.freeze_panes = "D2"
    sheet.column_dimensions["A"].width = 5
    sheet.column_dimensions["B"].width = 22
    sheet.column_dimensions["C"].width = 40
    for column in range(4, 4 + len(group)):
        sheet.column_dimensions[get_column_letter(column)].width = 50
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP


def _cell(pulled: PulledStatement, item: Item) -> str:
    text = answer_text(pulled.statement, item)
    return f"[NOT FOR QUOTING]\n{text}" if item.not_for_quoting else text


def _agency(pulled: PulledStatement) -> str:
    meta = pulled.statement.meta
    return meta.agency or (meta.role or "unknown").capitalize()


def _tally_sheet(sheet: Worksheet, group: list[PulledStatement]) -> None:
    agencies = sorted({_agency(p) for p in group})
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    questions: dict[str, tuple[int, str]] = {}
    for pulled in group:
        for item in pulled.statement.items:
            if item.kind != "choice" or item.status != "answered":
                continue
            order = item.paragraph if item.paragraph is not None else item.number
            questions.setdefault(item.prompt_id, (order, one_line(item.prompt_text)))
            for chosen in item.chosen:
                counts[(item.prompt_id, chosen.label)][_agency(pulled)] += 1
    sheet.append(["¶", "Question", "Answer", *agencies, "All"])
    for cell in sheet[1]:
        cell.font = BOLD
    for prompt_id, (order, text) in sorted(questions.items(), key=lambda kv: kv[1]):
        labels = sorted(label for (pid, label) in counts if pid == prompt_id)
        for label in labels:
            row = counts[(prompt_id, label)]
            sheet.append([order, text, label, *(row[a] for a in agencies), sum(row.values())])
    sheet.column_dimensions["B"].width = 50
    sheet.column_dimensions["C"].width = 25


def grid_xlsx(case: PulledCase) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for script_ref, group in _by_script(case).items():
        script = script_ref.split("#", 1)[0]
        _answers_sheet(book.create_sheet(_sheet_name(script, used)), group)
        _tally_sheet(book.create_sheet(_sheet_name(f"{script} by agency", used)), group)
    if not used:
        book.create_sheet("No statements").append(["No pulled statement to show."])
    buffer = io.BytesIO()
    book.save(buffer)
    return stable_zip(buffer.getvalue())
