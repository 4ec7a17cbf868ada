"""What a participant said, with provenance: every version of every part of an answer.

An answer can be several text messages and voice notes (parts). A voice part starts as the
transcriber's text and may be corrected by the participant; every version is kept so the reviewer
can see what was heard and what the participant changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from interview.engine import Progress
from interview.timestamps import UtcDatetime


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AnswerVersion(_Frozen):
    text: str
    source: Literal["typed", "transcript", "correction"]
    author: Literal["participant", "transcriber"]
    at: UtcDatetime
    model_id: str | None = None  # the Whisper model, for transcripts
    # For transcripts: the same text with the words Whisper was unsure of in ``[brackets?]``,
    # as the participant was shown it. None when nothing was uncertain (or before this existed).
    marked: str | None = None


class AnswerPart(_Frozen):
    kind: Literal["text", "voice"]
    text: str  # the current confirmed text: always the last version's
    versions: Annotated[tuple[AnswerVersion, ...], Field(min_length=1)]
    received_at: UtcDatetime

    @model_validator(mode="after")
    def _text_is_latest(self) -> AnswerPart:
        if self.text != self.versions[-1].text:
            raise ValueError("text must be the latest version's text")
        return self

    @property
    def corrected(self) -> bool:
        return any(v.source == "correction" for v in self.versions)


class ChronologyEvent(_Frozen):
    """One event for a chronology prompt: when (in the participant's words) and what happened."""

    when: str
    parts: tuple[AnswerPart, ...] = ()


class PromptAnswer(_Frozen):
    """Everything given for one prompt. ``skipped`` wins over any parts still held."""

    prompt_id: str
    skipped: bool = False
    parts: tuple[AnswerPart, ...] = ()
    choices: tuple[str, ...] = ()  # picked values, for choice prompts
    events: tuple[ChronologyEvent, ...] = ()
    # The participant asked that this answer is not quoted, even where their consent allows
    # quotes (the reviewer's exports leave it out). Set by the participant's side (issue 13).
    not_for_quoting: bool = False

    @property
    def answered(self) -> bool:
        return not self.skipped and bool(self.parts or self.choices or self.events)


def progress_of(answers: Mapping[str, PromptAnswer]) -> Progress:
    """The engine's view of stored answers: ids and choice values, no text."""
    return Progress(
        answered=frozenset(k for k, a in answers.items() if a.answered),
        skipped=frozenset(k for k, a in answers.items() if a.skipped),
        choices={k: a.choices for k, a in answers.items() if a.answered and a.choices},
    )
