"""The reviewer's desk on a case sealed by the real bot code path (see ``desk_case``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from openpyxl import load_workbook
from typer.testing import CliRunner

from review.cli import build_review_app
from review.pull import pull_case
from storage.evidence import load_identities
from storage.evidence.store import LocalEvidenceStore
from tests.integration.desk_case import (
    CASE,
    CONFIRMED_HEARD,
    CORRECTED,
    FAMILY_CANARY,
    HEARD,
    PROFESSIONAL_CANARY,
    DeskCase,
    build,
)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> DeskCase:
    return asyncio.run(build(tmp_path_factory.mktemp("desk")))


def _text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def _header_footer(path: Path) -> str:
    section = Document(str(path)).sections[0]
    return "\n".join(p.text for p in (*section.header.paragraphs, *section.footer.paragraphs))


def test_both_statements_pull_with_word_documents(desk: DeskCase) -> None:
    assert [r.status for r in desk.result.rows] == ["exported", "exported"]
    for statement_id in desk.ids.values():
        assert (desk.out / statement_id / "statement.docx").is_file()
        assert (desk.out / statement_id / "script.json").is_file()
    assert (desk.out / "index.docx").is_file()


def test_pulling_again_rewrites_nothing_so_references_stay(desk: DeskCase) -> None:
    before = {p: p.read_bytes() for p in desk.out.rglob("*") if p.is_file()}

    # A later pull into the same folder: the pin the first pull left is the trust
    again = pull_case(
        LocalEvidenceStore(desk.store), CASE, load_identities(desk.identity), desk.out
    )

    assert again.files_written == 0
    assert {p: p.read_bytes() for p in desk.out.rglob("*") if p.is_file()} == before


def test_the_family_statement_in_word(desk: DeskCase) -> None:
    path = desk.out / desk.ids["F-01"] / "statement.docx"
    text = _text(path)

    # The banner, because she did not agree to be quoted
    assert "QUOTES: NOT PERMITTED" in text
    # Cover facts
    for fact in ("LCSPR-DESK-01", "F-01", "Mother", "family", "family@1#", "must not be quoted"):
        assert fact in text, fact
    assert "its SHA-256 matches the consent record" in text
    provenance = json.loads((desk.out / desk.ids["F-01"] / "provenance.json").read_bytes())
    assert provenance["sealed_sha256"] in text and provenance["signer_fingerprint"] in text
    # Protective marking and footer
    chrome = _header_footer(path)
    assert "OFFICIAL-SENSITIVE" in chrome
    assert desk.ids["F-01"] in chrome and provenance["sealed_sha256"] in chrome
    # References from the script's structure: relationship is prompt 1, about_child prompt 3,
    # health_experience prompt 7 (whatever the branches showed), key_events prompt 14
    assert "F-01 ¶1.1" in text and "F-01 ¶3.1" in text and "F-01 ¶7.1" in text
    assert "F-01 ¶14.2" in text and "Just before Christmas 2023" in text
    # No Markdown escapes in text meant for Word
    assert FAMILY_CANARY in text and "\\<" not in text
    # The correction is the final text; what was heard is in the appendix
    body, appendix = text.split("Appendix A: earlier versions", 1)
    assert CORRECTED in body and HEARD not in body
    assert "[Tuesday?]" in appendix and CORRECTED in appendix
    assert "corrected by the participant" in body
    # A transcript confirmed as heard keeps its uncertain word visibly marked
    assert CONFIRMED_HEARD.replace("thriving", "[thriving?]") in body
    marked = [
        r
        for p in Document(str(path)).paragraphs
        for r in p.runs
        if r.text == "[thriving?]" and r.font.highlight_color == WD_COLOR_INDEX.YELLOW
    ]
    assert marked
    # The consent wording as shown
    assert "Are you happy to take part in the review" in appendix


def test_the_professional_statement_has_job_and_agency_and_no_banner(desk: DeskCase) -> None:
    text = _text(desk.out / desk.ids["P-01"] / "statement.docx")

    assert "QUOTES: NOT PERMITTED" not in text
    assert "Health visitor" in text and "Northshire Community Health Trust" in text
    assert "P-01 ¶1.1" in text and "P-01 ¶2.1" in text
    assert "may be quoted (described by role)" in text


def test_the_index_names_codes_labels_roles_and_consent(desk: DeskCase) -> None:
    markdown = (desk.out / "index.md").read_text()
    word = _text(desk.out / "index.docx")

    for text in (markdown, word):
        assert "F-01" in text and "Mother" in text and "P-01" in text
        assert "Northshire Community Health Trust" in text
        assert "must not be quoted" in text
        assert "Pulled; sealed " in text and " UTC." in text
    assert ".000" not in markdown and "+00:00" not in markdown


def test_the_desk_commands_from_pull_to_bundle(desk: DeskCase, tmp_path: Path) -> None:
    """A reviewer's afternoon: grid, QDA export, chronology, quotes and bundle, by the CLI."""
    runner = CliRunner()
    app = build_review_app()
    common = ["--pulled", str(desk.out)]

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args, *common])
        assert result.exit_code == 0, result.output
        return result.output

    run("grid", CASE, "--out", str(tmp_path / "grid.xlsx"))
    book = load_workbook(tmp_path / "grid.xlsx")
    assert book.sheetnames == [
        "family@1",
        "family@1 by agency",
        "professional@2",
        "professional@2 by agency",
    ]
    cells = [str(c.value) for row in book["professional@2 by agency"].iter_rows() for c in row]
    assert "Northshire Community Health Trust" in cells and "Sometimes" in cells
    family = [str(c.value) for row in book["family@1"].iter_rows() for c in row]
    assert any(c.startswith("F-01 ¶7.1: " + CORRECTED) for c in family)

    run("export", CASE, "--format", "qdpx", "--out", str(tmp_path / "case.qdpx"))
    assert (tmp_path / "case.qdpx").read_bytes()[:2] == b"PK"

    said = run("chronology", CASE, "--out", str(tmp_path / "chron" / "chronology"))
    assert "dated events" in said
    chron = (tmp_path / "chron" / "chronology.csv").read_text(encoding="utf-8-sig")
    assert "c. 2023-12-25,approximate,Just before Christmas 2023,F-01" in chron
    assert "2024-05-03,day,3 May 2024,P-01,professional,Northshire Community Health Trust" in chron

    run("quotes", CASE, "--out", str(tmp_path / "quotes"))
    quotes = "\n".join(
        p.read_text(encoding="utf-8-sig") for p in (tmp_path / "quotes").glob("*.csv")
    )
    assert FAMILY_CANARY not in quotes and "cnryF01x" not in quotes  # she refused
    assert PROFESSIONAL_CANARY in quotes  # he agreed

    said = run("bundle", CASE, "--out", str(tmp_path / "bundle"), "--store", str(desk.store))
    assert "2 statements" in said
    assert len(list((tmp_path / "bundle" / "statements").glob("*.pdf"))) == 2
    assert (tmp_path / "bundle" / "certificate.pdf").is_file()
