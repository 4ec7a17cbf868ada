"""The REFI-QDA export validates against the standard's Project.xsd, with every answer coded."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from review.desk.pulled import PulledCase
from review.desk.qdpx import NS, qdpx
from tests.unit.review.desk.helpers import seal_and_pull, standard_people

SCHEMA = Path(__file__).parents[3] / "fixtures" / "refi-qda" / "Project.xsd"
Q = f"{{{NS}}}"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> PulledCase:
    return seal_and_pull(tmp_path_factory.mktemp("qdpx"), standard_people())


def _open(data: bytes) -> tuple[bytes, dict[str, str]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    sources = {
        n.removeprefix("Sources/").removesuffix(".txt"): archive.read(n).decode("utf-8")
        for n in archive.namelist()
        if n.startswith("Sources/")
    }
    return archive.read("project.qde"), sources


def test_the_project_validates_against_project_xsd(case: PulledCase) -> None:
    xml, _ = _open(qdpx(case, datetime(2024, 9, 3, tzinfo=UTC)))

    xmlschema.XMLSchema(str(SCHEMA)).validate(io.BytesIO(xml))


def test_a_broken_project_does_not_validate() -> None:
    # The check can fail: a selection without its required positions is refused
    broken = (
        f'<Project xmlns="{NS}" name="x"><Sources><TextSource guid="'
        '00000000-0000-0000-0000-000000000001"><PlainTextSelection guid="'
        '00000000-0000-0000-0000-000000000002"/></TextSource></Sources></Project>'
    )
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        xmlschema.XMLSchema(str(SCHEMA)).validate(io.BytesIO(broken.encode()))


def test_one_code_per_prompt_grouped_by_section_and_every_answer_coded(case: PulledCase) -> None:
    xml, sources = _open(qdpx(case, datetime(2024, 9, 3, tzinfo=UTC)))
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    codes = root.find(f"{Q}CodeBook/{Q}Codes")
    assert codes is not None
    scripts = codes.findall(f"{Q}Code")
    assert {c.get("name") for c in scripts} == {
        "Your experience",
        "Your work with the child and family",
    }
    prompt_codes = {
        c.get("guid"): c.get("name")
        for script in scripts
        for section in script.findall(f"{Q}Code")
        for c in section.findall(f"{Q}Code")
    }
    # one code per prompt of each script (every prompt any statement showed)
    shown = {
        (p.statement.script_id, i.prompt_id) for p in case.statements for i in p.statement.items
    }
    assert len(prompt_codes) == len(shown)
    assert any(name.startswith("¶1 What was your job title") for name in prompt_codes.values())

    for pulled in case.statements:
        source = next(
            s for s in root.iter(f"{Q}TextSource") if s.get("name", "").startswith(pulled.code)
        )
        text = sources[source.get("guid", "")]
        coded = {}
        for selection in source.findall(f"{Q}PlainTextSelection"):
            start, end = (
                int(selection.get("startPosition", -1)),
                int(selection.get("endPosition", -1)),
            )
            target = selection.find(f"{Q}Coding/{Q}CodeRef")
            assert target is not None and target.get("targetGUID") in prompt_codes
            coded[selection.get("name")] = text[start:end]
        answered = [i for i in pulled.statement.items if i.status == "answered"]
        assert answered
        for item in answered:
            number = item.paragraph
            assert any(ref.startswith(f"{pulled.code} ¶{number}") for ref in coded), item.prompt_id
        if pulled.code == "P-01":
            assert coded["P-01 ¶2.1"] == "Northshire Community Health Trust"
            assert coded["P-01 ¶7.1"] == "3 May 2024 - home visit, mother seen"


def test_cases_carry_role_agency_and_consent_as_variables(case: PulledCase) -> None:
    xml, _ = _open(qdpx(case, datetime(2024, 9, 3, tzinfo=UTC)))
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    names = {v.get("guid"): v.get("name") for v in root.iter(f"{Q}Variable")}
    cases = {c.get("name"): c for c in root.iter(f"{Q}Case")}

    assert "P-01 · professional · Northshire Community Health Trust" in cases
    refuser = cases["F-01 · family"]
    values = {
        names[v.find(f"{Q}VariableRef").get("targetGUID")]: (  # type: ignore[union-attr]
            v[1].text
        )
        for v in refuser.findall(f"{Q}VariableValue")
    }
    assert values["Consent: be quoted"] == "false" and values["Label"] == "Mother"
    assert refuser.find(f"{Q}SourceRef") is not None


def test_exporting_twice_gives_the_same_bytes(case: PulledCase) -> None:
    at = datetime(2024, 9, 3, tzinfo=UTC)
    assert qdpx(case, at) == qdpx(case, at)
