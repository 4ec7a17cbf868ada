"""Shared fixtures: a small branching script and answer builders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interview.answers import AnswerPart, AnswerVersion, PromptAnswer
from interview.consent import ConsentChoices, consent_texts
from interview.script import InterviewScript, load_script
from interview.statement import StatementMeta

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

SMALL = """\
id: small
version: 1
title: Small
audience: professional
sections:
  - id: one
    title: First
    prompts:
      - id: role
        kind: free
        required: true
        text: What was your role?
      - id: services
        kind: choice
        multiple: true
        text: Which services?
        choices:
          - {value: school, label: School}
          - {value: police, label: Police}
          - {value: other, label: Other}
      - id: school_more
        kind: free
        text: Tell us about the school.
        show_if: {prompt: services, in: [school]}
      - id: police_more
        kind: free
        text: Tell us about the police.
        show_if: {prompt: services, in: [police]}
  - id: two
    title: Hard part
    content_note: This part may be hard.
    prompts:
      - id: hard_a
        kind: free
        text: Hard question A?
      - id: contacts
        kind: date
        chronology: true
        text: Key contacts?
  - id: three
    title: End
    prompts:
      - id: last
        kind: free
        text: Anything else?
"""


@pytest.fixture
def small() -> InterviewScript:
    return load_script(SMALL, name="small.yaml")


def typed(text: str) -> AnswerPart:
    version = AnswerVersion(text=text, source="typed", author="participant", at=AT)
    return AnswerPart(kind="text", text=text, versions=(version,), received_at=AT)


def voice(heard: str, corrected: str | None = None) -> AnswerPart:
    versions = [
        AnswerVersion(
            text=heard,
            source="transcript",
            author="transcriber",
            at=AT,
            model_id="faster-whisper-base-int8",
        )
    ]
    if corrected is not None:
        versions.append(
            AnswerVersion(text=corrected, source="correction", author="participant", at=AT)
        )
    return AnswerPart(
        kind="voice", text=versions[-1].text, versions=tuple(versions), received_at=AT
    )


def text_answer(prompt_id: str, *texts: str) -> PromptAnswer:
    return PromptAnswer(prompt_id=prompt_id, parts=tuple(typed(t) for t in texts))


def consent(take_part: bool = True, quote: bool = True, publish: bool = False) -> ConsentChoices:
    return ConsentChoices.decide(
        consent_texts("professional"),
        take_part=take_part,
        quote=quote,
        anonymised_publication=publish,
        at=AT,
    )


def meta() -> StatementMeta:
    return StatementMeta(
        case_id="case-1",
        participant_id="p-1",
        interview_id="i-1",
        role="health visitor",
        assembled_at=AT,
    )
