"""Quotes respect consent: a refusing participant's words never appear in either export, and
answers marked "not for quoting" never appear at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document

from review.desk.anonymise import anonymise, load_pseudonyms
from review.desk.pulled import PulledCase
from review.desk.quotes import quote_sets, write_quotes
from tests.unit.review.desk.helpers import (
    MARKED_WORDS,
    REFUSER_WORDS,
    seal_and_pull,
    standard_people,
)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> PulledCase:
    return seal_and_pull(tmp_path_factory.mktemp("quotes"), standard_people())


def _all_text(folder: Path) -> str:
    out = []
    for path in folder.iterdir():
        if path.suffix == ".docx":
            doc = Document(str(path))
            out += [p.text for p in doc.paragraphs]
        else:
            out.append(path.read_text(encoding="utf-8-sig"))
    return "\n".join(out)


def test_a_refusing_participant_and_a_marked_answer_never_appear(
    case: PulledCase, tmp_path: Path
) -> None:
    written = write_quotes(case, tmp_path / "quotes", [("Sam", "the child")])

    assert {p.name for p in written} == {
        "attributed.csv",
        "attributed.docx",
        "published.csv",
        "published.docx",
        "redaction-log.csv",
        "excluded.csv",
    }
    everything = _all_text(tmp_path / "quotes")
    for words in (REFUSER_WORDS, "cnryREFUSE1", MARKED_WORDS, "cnryMARK2", "I am his mum"):
        assert words not in everything
    assert "F-01,did not agree to be quoted" in everything
    assert "P-01 ¶17,answer marked not for quoting" in everything


def test_each_set_takes_only_those_who_agreed_to_it(case: PulledCase) -> None:
    sets = quote_sets(case, [])
    attributed = {q.ref.split()[0] for q in sets.attributed}
    published = {q.ref.split()[0] for q in sets.published}

    # F-01 refused both; F-02 agreed to both; P-01 quotes only; P-02 both
    assert attributed == {"F-02", "P-01", "P-02"}
    assert published == {"F-02", "P-02"}
    assert any(q.described_as == "a health visitor" for q in sets.attributed)
    assert {q.described_as for q in sets.published} == {"a family member", "a professional"}
    assert not any("I made a referral" in q.text for q in sets.published)


def test_published_extracts_are_anonymised_and_flagged(case: PulledCase, tmp_path: Path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("original,replacement\nSam,the child\nOak Lane Primary,School A\n")

    sets = quote_sets(case, load_pseudonyms(mapping))
    text = "\n".join(q.text for q in sets.published)
    flags = "\n".join(q.flags for q in sets.published)
    log = {(kind, original) for _, kind, original, _ in sets.log}

    assert "Sam" not in text and "Oak Lane Primary" not in text and "School A" in text
    for gone in ("NE1 4XY", "07700 900123", "a.teacher@oaklane.sch.uk"):
        assert gone not in text
    assert "name not in the map: Tracey Smith" in flags
    assert "address: 14 Elm Road" in flags
    assert "age next to a name: child (7)" in flags
    assert ("pseudonym", "Sam") in log and ("postcode", "NE1 4XY") in log
    assert ("flag: name not in the map", "Tracey Smith") in log
    assert not any(q.text == "Class teacher" for q in sets.published)  # a field, not a quote


def test_dates_of_birth_are_flagged() -> None:
    done = anonymise("He was born on 3 May 2017 and his DOB is 03/05/2017.", [])
    assert [f.kind for f in done.flags].count("date of birth") == 2
