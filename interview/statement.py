"""Statement assembly: the participant's confirmed answers, in script order, with provenance.

``assemble_statement`` is pure. Only prompts visible with the current choices are included, so
answers to prompts that a changed choice now hides drop out. The result is a frozen model that
round-trips through ``statement.json``; ``interview.render`` writes ``statement.md`` and the
participant's read-back from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from interview.answers import AnswerPart, ChronologyEvent, PromptAnswer, progress_of
from interview.consent import ConsentChoices
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
) -> Statement:
    visible = InterviewEngine(script).visible(progress_of(answers))
    numbers = {p.id: n for n, p in enumerate(visible, start=1)}
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
        meta=meta,
        consent=consent,
        sections=tuple(sections),
    )
