"""Statement assembly: the participant's confirmed answers, in script order, with provenance.

``assemble_statement`` is pure. Only prompts visible with the current choices are included, so
answers to prompts that a changed choice now hides drop out. The result is a frozen model that
round-trips through ``statement.json``; ``interview.render`` writes ``statement.md`` and the
participant's read-back from it.

The format only grows: every field added since ``casevoice.statement/1`` was first sealed has a
default, so statements sealed by older versions still read (the reviewer's side relies on it).
Each item carries ``paragraph``, the prompt's fixed position in the whole script, from which the
reviewer's citable references (``F-01 ¶7.2``) are built: unlike ``number`` (the read-back's
numbering), it does not move when a choice shows or hides other prompts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from interview.answers import AnswerPart, ChronologyEvent, PromptAnswer, progress_of
from interview.consent import ConsentChoices, ConsentTexts
from interview.engine import InterviewEngine
from interview.script import Audience, InterviewScript, PromptKind
from interview.texts import STATEMENT_FORMAT
from interview.timestamps import UtcDatetime


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatementMeta(_Frozen):
    case_id: str
    participant_id: str
    interview_id: str
    role: str | None = None  # how the participant may be described, e.g. "health visitor"
    assembled_at: UtcDatetime
    label: str | None = None  # the reviewer's own name for the invite, e.g. "Mother"
    job_title: str | None = None  # from the prompt marked ``field: job_title``
    agency: str | None = None  # from the prompt marked ``field: agency``


class ChosenValue(_Frozen):
    value: str
    label: str


class StatementItem(_Frozen):
    number: int  # as shown in the read-back
    prompt_id: str
    kind: PromptKind
    prompt_text: str
    status: Literal["answered", "skipped", "not_answered"]
    chosen: tuple[ChosenValue, ...] = ()
    parts: tuple[AnswerPart, ...] = ()
    events: tuple[ChronologyEvent, ...] = ()
    paragraph: int | None = None  # the prompt's fixed position in the script (citations)
    help: str | None = None  # the hint offered with the prompt, as shown
    not_for_quoting: bool = False  # the participant's mark: never quote this answer
    field: str | None = None  # the structured fact this answer supplies (job_title, agency)


class StatementSection(_Frozen):
    id: str
    title: str
    items: tuple[StatementItem, ...]


class Statement(_Frozen):
    format: Literal["casevoice.statement/1"] = STATEMENT_FORMAT
    script_ref: str
    script_id: str
    script_version: int
    script_hash: str
    title: str
    audience: Audience
    language: str
    meta: StatementMeta
    consent: ConsentChoices
    sections: tuple[StatementSection, ...]
    # The introduction and consent questions exactly as shown; their hash is consent.consent_hash.
    consent_wording: ConsentTexts | None = None

    @property
    def items(self) -> tuple[StatementItem, ...]:
        return tuple(item for s in self.sections for item in s.items)

    def item(self, number: int) -> StatementItem:
        return next(i for i in self.items if i.number == number)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> Statement:
        return cls.model_validate_json(text)


def assemble_statement(
    script: InterviewScript,
    answers: Mapping[str, PromptAnswer],
    consent: ConsentChoices,
    meta: StatementMeta,
    *,
    consent_wording: ConsentTexts | None = None,
) -> Statement:
    visible = InterviewEngine(script).visible(progress_of(answers))
    numbers = {p.id: n for n, p in enumerate(visible, start=1)}
    fields: dict[str, str] = {}
    sections = []
    for section in script.sections:
        items = []
        for prompt in section.prompts:
            if prompt.id not in numbers:
                continue
            answer = answers.get(prompt.id, PromptAnswer(prompt_id=prompt.id))
            status: Literal["answered", "skipped", "not_answered"] = (
                "skipped" if answer.skipped else "answered" if answer.answered else "not_answered"
            )
            keep = status == "answered"
            if keep and prompt.field is not None and answer.parts:
                fields[prompt.field] = " ".join(" ".join(p.text.split()) for p in answer.parts)
            items.append(
                StatementItem(
                    number=numbers[prompt.id],
                    prompt_id=prompt.id,
                    kind=prompt.kind,
                    prompt_text=prompt.text,
                    status=status,
                    chosen=tuple(
                        ChosenValue(value=v, label=prompt.label_of(v)) for v in answer.choices
                    )
                    if keep
                    else (),
                    parts=answer.parts if keep else (),
                    events=answer.events if keep else (),
                    paragraph=script.paragraph_of(prompt.id),
                    help=prompt.help,
                    not_for_quoting=answer.not_for_quoting,
                    field=prompt.field,
                )
            )
        if items:
            sections.append(
                StatementSection(id=section.id, title=section.title, items=tuple(items))
            )
    return Statement(
        script_ref=script.ref,
        script_id=script.id,
        script_version=script.version,
        script_hash=script.content_hash,
        title=script.title,
        audience=script.audience,
        language=script.language,
        meta=meta.model_copy(update=fields),
        consent=consent,
        sections=tuple(sections),
        consent_wording=consent_wording,
    )
