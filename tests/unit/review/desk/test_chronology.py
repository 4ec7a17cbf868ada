"""The draft chronology: the written test set's score, and rows from a pulled case."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from review.desk.chronology.resolve import resolve_text
from review.desk.chronology.table import chronology, write
from review.desk.pulled import PulledCase
from tests.unit.review.desk.helpers import seal_and_pull, standard_people

sys.path.insert(0, str(Path(__file__).parents[4] / "bench"))
from chronology import score  # noqa: E402


def test_the_test_set_scores_at_least_0_9_and_guesses_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = score()

    with capsys.disabled():
        print(
            f"\nchronology test set: {result.sentences} sentences, {result.gold} dates; "
            f"precision {result.precision:.3f}, recall {result.recall:.3f}, "
            f"guesses {result.guesses}"
        )
    assert result.sentences >= 80
    assert result.precision >= 0.9 and result.recall >= 0.9
    assert result.guesses == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("just before Christmas 2023", ("c. 2023-12-25", "approximate")),
        ("on the 3rd of March 2024", ("2024-03-03", "day")),
        ("03/03/24", ("2024-03-03", "day")),
        ("spring 2023", ("2023-spring", "season")),
    ],
)
def test_forms_from_the_issue(text: str, expected: tuple[str, str]) -> None:
    (found,) = resolve_text(text)
    assert found.dated is not None
    assert (found.dated.normalised, found.dated.precision) == expected


def test_no_date_is_guessed_without_an_anchor() -> None:
    for text in ("a fortnight after that", "the week after her birthday", "in May", "last year"):
        assert all(r.dated is None and r.problem for r in resolve_text(text)), text


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> PulledCase:
    return seal_and_pull(tmp_path_factory.mktemp("chronology"), standard_people())


def test_rows_are_sorted_with_who_said_it_and_where(case: PulledCase, tmp_path: Path) -> None:
    agency = tmp_path / "police.csv"
    agency.write_text(
        "date,agency,event,source\n"
        "14/12/2023,Northshire Police,Domestic incident attended,Police log 2231\n"
        'Spring 2024,Northshire Police,=HYPERLINK("x"),Police log 2300\n'
        ",Northshire Police,Undated note,Police log 2301\n",
        encoding="utf-8",
    )

    result = chronology(case, [agency])
    paths = write(result, tmp_path / "out" / "chronology")

    assert [r.sort for r in result.rows] == sorted(r.sort for r in result.rows)
    by_ref = {r.reference: r for r in result.rows}
    assert by_ref["F-01 ¶14.1"].normalised == "c. 2023-12-25"
    assert by_ref["F-01 ¶14.2"].normalised == "c. 2024-01-08"
    assert "Just before Christmas 2023" in by_ref["F-01 ¶14.2"].resolved
    assert by_ref["P-01 ¶7.1"].normalised == "2024-05-03" and by_ref["P-01 ¶7.1"].agency == (
        "Northshire Community Health Trust"
    )
    assert by_ref["P-01 ¶7.2"].normalised == "2024-06-20"
    assert by_ref["Police log 2231"].normalised == "2023-12-14"
    assert by_ref["Police log 2300"].precision == "season"
    assert [u.reference for u in result.undated if u.why == "no date given"] == ["Police log 2301"]
    # Files: CSV (no formula runs in a spreadsheet) and XLSX with the undated sheet
    assert [p.name for p in paths] == [
        "chronology.csv",
        "chronology-undated.csv",
        "chronology.xlsx",
    ]
    rows = list(csv.reader(paths[0].read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:3] == ["Date", "Precision", "Original wording"]
    assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
    book = load_workbook(paths[2])
    assert book.sheetnames == ["Chronology", "Undated or ambiguous"]
