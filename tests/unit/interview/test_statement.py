from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from interview.answers import AnswerPart, AnswerVersion, ChronologyEvent, PromptAnswer
from interview.render import render_markdown
from interview.script import InterviewScript
from interview.statement import Statement, assemble_statement
from tests.unit.interview.conftest import AT, consent, meta, text_answer, typed, voice


def full_answers() -> dict[str, PromptAnswer]:
    answers = [
        text_answer("role", "Health visitor, community trust"),
        PromptAnswer(prompt_id="services", choices=("school", "police"), parts=()),
        text_answer("school_more", "The school called me.", "Twice."),
        PromptAnswer(prompt_id="police_more", skipped=True),
        PromptAnswer(prompt_id="hard_a", parts=(voice("I visted", "I visited the home"),)),
        PromptAnswer(
            prompt_id="contacts",
            events=(ChronologyEvent(when="around 12 May 2024", parts=(typed("Home visit"),)),),
        ),
    ]
    return {a.prompt_id: a for a in answers}


def test_statement_json_round_trip(small: InterviewScript) -> None:
    statement = assemble_statement(small, full_answers(), consent(), meta())

    again = Statement.from_json(statement.to_json())

    assert again == statement
    assert again.script_ref == small.ref
    assert again.format == "casevoice.statement/1"


def test_items_in_order_with_numbers_and_status(small: InterviewScript) -> None:
    statement = assemble_statement(small, full_answers(), consent(), meta())

    got = [(i.number, i.prompt_id, i.status) for i in statement.items]

    assert got == [
        (1, "role", "answered"),
        (2, "services", "answered"),
        (3, "school_more", "answered"),
        (4, "police_more", "skipped"),
        (5, "hard_a", "answered"),
        (6, "contacts", "answered"),
        (7, "last", "not_answered"),
    ]
    assert [c.label for c in statement.item(2).chosen] == ["School", "Police"]


def test_hidden_answers_drop_out_of_the_statement(small: InterviewScript) -> None:
    answers = full_answers()
    answers["services"] = PromptAnswer(prompt_id="services", choices=("other",))

    statement = assemble_statement(small, answers, consent(), meta())
    markdown = render_markdown(statement)

    assert "school_more" not in [i.prompt_id for i in statement.items]
    assert "The school called me." not in markdown


def test_markdown_has_sections_answers_and_voice_provenance(small: InterviewScript) -> None:
    markdown = render_markdown(assemble_statement(small, full_answers(), consent(), meta()))

    assert "## First" in markdown and "## Hard part" in markdown
    assert "### 1. What was your role?" in markdown
    assert "> Health visitor, community trust" in markdown
    assert "### 4. Tell us about the police.\n\n_Skipped_" in markdown
    assert "> I visited the home" in markdown and "I visted" not in markdown
    assert "(voice note, transcribed; corrected by the participant)" in markdown
    assert "**around 12 May 2024**" in markdown and "> Home visit" in markdown
    assert "_Not answered_" in markdown
    assert f"`{small.ref}`" in markdown


def test_markdown_escapes_participant_text(small: InterviewScript) -> None:
    answers = {"role": text_answer("role", "# Heading <script>x</script> [link](http://x)")}

    markdown = render_markdown(assemble_statement(small, answers, consent(), meta()))

    assert "\n# Heading" not in markdown
    assert "<script>" not in markdown
    assert r"> \# Heading \<script\>" in markdown


def test_part_text_must_be_the_latest_version_and_times_utc() -> None:
    version = AnswerVersion(text="a", source="typed", author="participant", at=AT)
    with pytest.raises(ValidationError):
        AnswerPart(kind="text", text="b", versions=(version,), received_at=AT)
    with pytest.raises(ValidationError):
        AnswerVersion(
            text="a",
            source="typed",
            author="participant",
            at=datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        )
    with pytest.raises(ValidationError):
        AnswerVersion(text="a", source="typed", author="participant", at=datetime(2025, 1, 1))  # noqa: DTZ001 - naive on purpose
