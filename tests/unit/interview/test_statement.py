from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from interview.answers import AnswerPart, AnswerVersion, ChronologyEvent, PromptAnswer
from interview.consent import consent_texts
from interview.render import render_markdown
from interview.script import InterviewScript, load_script
from interview.statement import Statement, assemble_statement
from tests.unit.interview.conftest import AT, SMALL, consent, meta, text_answer, typed, voice


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


def test_paragraphs_fields_hints_and_the_quote_mark_are_carried(small: InterviewScript) -> None:
    # Given a script whose first prompt files the answer as the job title
    script = load_script(
        SMALL.replace("required: true", "required: true\n        field: job_title")
    )
    answers = full_answers()
    answers["hard_a"] = answers["hard_a"].model_copy(update={"not_for_quoting": True})

    statement = assemble_statement(
        script, answers, consent(), meta(), consent_wording=consent_texts("professional")
    )

    # Paragraphs are fixed positions in the whole script: a hidden prompt keeps its number
    assert [(i.prompt_id, i.number, i.paragraph) for i in statement.items][-3:] == [
        ("hard_a", 5, 5),
        ("contacts", 6, 6),
        ("last", 7, 7),
    ]
    hidden = assemble_statement(
        script,
        {**answers, "services": PromptAnswer(prompt_id="services", choices=("other",))},
        consent(),
        meta(),
    )
    assert [(i.prompt_id, i.number, i.paragraph) for i in hidden.items][-1] == ("last", 5, 7)
    assert statement.meta.job_title == "Health visitor, community trust"
    assert statement.item(5).not_for_quoting and not statement.item(1).not_for_quoting
    assert statement.consent_wording is not None
    assert statement.consent_wording.hash == statement.consent.consent_hash
    assert Statement.from_json(statement.to_json()) == statement


def test_a_statement_sealed_before_these_fields_still_reads() -> None:
    old = {
        "format": "casevoice.statement/1",
        "script_ref": "family@1#925c41b63f89",
        "script_id": "family",
        "script_version": 1,
        "script_hash": "9" * 64,
        "title": "Your experience",
        "audience": "family",
        "language": "en",
        "meta": {
            "case_id": "c",
            "participant_id": "F-01",
            "interview_id": "i",
            "role": "family",
            "assembled_at": "2025-03-01T12:00:00Z",
        },
        "consent": {
            "take_part": True,
            "quote": False,
            "anonymised_publication": False,
            "consent_ref": "consent-family@1#abc",
            "consent_hash": "a" * 64,
            "decided_at": "2025-03-01T12:00:00Z",
        },
        "sections": [
            {
                "id": "s",
                "title": "S",
                "items": [
                    {
                        "number": 1,
                        "prompt_id": "p",
                        "kind": "free",
                        "prompt_text": "Q?",
                        "status": "skipped",
                    }
                ],
            }
        ],
    }

    statement = Statement.from_json(json.dumps(old))

    assert statement.items[0].paragraph is None and statement.meta.label is None
    assert statement.consent_wording is None


def test_markdown_names_the_label_job_and_agency(small: InterviewScript) -> None:
    described = meta().model_copy(
        update={"label": "Mother's <partner>", "job_title": "Teacher", "agency": "Oak School"}
    )

    markdown = render_markdown(assemble_statement(small, full_answers(), consent(), described))

    assert r"- Known to the reviewer as: Mother's \<partner\>" in markdown
    assert "- Job title: Teacher" in markdown and "- Organisation: Oak School" in markdown
