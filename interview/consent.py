"""Introduction and consent: the texts a participant sees, and the choices they make.

``consent_texts`` fills the texts for one audience and case; their SHA-256 (``ConsentTexts.hash``)
goes into every ``ConsentChoices`` so the record says exactly which words the person agreed to.
Consent is three separate questions: take part (required to go on), be quoted (by role),
anonymised quotes in the published report. The prose is in ``interview/consent_texts.py``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from interview import consent_texts as T
from interview.chunks import TELEGRAM_LIMIT, split_text
from interview.errors import ConsentError
from interview.script import Audience
from interview.timestamps import UtcDatetime

ConsentKey = Literal["take_part", "quote", "anonymised_publication"]

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(day: date) -> str:
    """``5 March 2026``: unambiguous for UK readers and independent of the host locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsentContext(_Frozen):
    """Per-case settings that fill the placeholders; ``None`` means the default wording."""

    partnership: str | None = None  # starts a sentence, e.g. "Northshire Safeguarding Partnership"
    reviewer: str | None = None  # e.g. "Jo Smith, an independent lead reviewer"
    retention: str | None = None  # follows "will keep your answers", e.g. "until March 2032"
    withdraw_until: date | None = None
    support: str | None = None  # replaces the default list of support services


class ConsentQuestion(_Frozen):
    key: ConsentKey
    number: int
    text: str  # the whole message, neutral heading line first
    more: str
    yes_label: str
    no_label: str
    required: bool


class ConsentTexts(_Frozen):
    version: int
    audience: Audience
    intro: tuple[str, ...]
    tell_me_more: tuple[str, ...]
    questions: tuple[ConsentQuestion, ...]
    not_now: str
    declined: str

    @cached_property
    def hash(self) -> str:
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def ref(self) -> str:
        return f"consent-{self.audience}@{self.version}#{self.hash[:12]}"

    def question(self, key: ConsentKey) -> ConsentQuestion:
        return next(q for q in self.questions if q.key == key)


def consent_texts(
    audience: Audience, context: ConsentContext | None = None, *, purpose: str | None = None
) -> ConsentTexts:
    """The filled texts. ``purpose`` is the script's ``intro`` override, if it has one."""
    ctx = context or ConsentContext()
    values = {
        "partnership": ctx.partnership or T.DEFAULT_PARTNERSHIP,
        "reviewer": ctx.reviewer or T.DEFAULT_REVIEWER,
        "purpose": (purpose or T.DEFAULT_PURPOSE[audience]).strip(),
        "retention": ctx.retention or T.DEFAULT_RETENTION,
        "withdraw_until": (
            format_date(ctx.withdraw_until) if ctx.withdraw_until else T.DEFAULT_WITHDRAW_UNTIL
        ),
        "support": (ctx.support or T.DEFAULT_SUPPORT[audience]).strip(),
    }

    def fill(templates: tuple[str, ...]) -> tuple[str, ...]:
        # Values are inserted once: braces inside a value are kept as they are.
        return tuple(m for t in templates for m in split_text(t.format_map(values), TELEGRAM_LIMIT))

    raw = T.QUESTIONS[audience]
    questions = tuple(
        ConsentQuestion(
            key=key,
            number=n,
            text=T.QUESTION_HEADING.format(number=n, total=len(raw)) + "\n\n" + text,
            more=more,
            yes_label=yes,
            no_label=no,
            required=required,
        )
        for n, (key, text, more, yes, no, required) in enumerate(raw, start=1)
    )
    return ConsentTexts(
        version=T.VERSION,
        audience=audience,
        intro=fill(T.INTRO[audience]),
        tell_me_more=fill(T.TELL_ME_MORE[audience]),
        questions=questions,
        not_now=T.NOT_NOW,
        declined=T.DECLINED,
    )


class ConsentChoices(_Frozen):
    """The three separate answers, and the exact texts (by hash) they were given to."""

    take_part: bool
    quote: bool
    anonymised_publication: bool
    consent_ref: str
    consent_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    decided_at: UtcDatetime

    @model_validator(mode="after")
    def _only_with_taking_part(self) -> ConsentChoices:
        if not self.take_part and (self.quote or self.anonymised_publication):
            raise ValueError("quotes can only be agreed by someone taking part")
        return self

    @classmethod
    def decide(
        cls,
        texts: ConsentTexts,
        *,
        take_part: bool,
        quote: bool,
        anonymised_publication: bool,
        at: datetime,
    ) -> ConsentChoices:
        if not take_part and (quote or anonymised_publication):
            raise ConsentError("quote consent given without taking part")
        return cls(
            take_part=take_part,
            quote=quote,
            anonymised_publication=anonymised_publication,
            consent_ref=texts.ref,
            consent_hash=texts.hash,
            decided_at=at,
        )
