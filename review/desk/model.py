"""The reviewer's reading of ``statement.json`` (format ``casevoice.statement/1``).

The review side may not import the bot's ``interview`` package, so it reads the format on its
own terms: every field that was added after the first statements were sealed is optional here,
and unknown fields are ignored, so statements sealed by any version read the same way.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from storage.evidence.common import canonical_json, sha256_hex
from storage.evidence.errors import PackageError

STATEMENT_FORMAT = "casevoice.statement/1"
# Characters Word, Excel and XML cannot hold. The evidence (statement.json) keeps them; the
# documents made from it show U+FFFD in their place instead of failing to be written.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class _Read(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Version(_Read):
    text: str
    source: Literal["typed", "transcript", "correction"]
    author: str
    at: datetime
    model_id: str | None = None
    marked: str | None = None  # transcripts: uncertain words in [brackets?]


class Part(_Read):
    kind: Literal["text", "voice"]
    text: str
    versions: tuple[Version, ...]
    received_at: datetime

    @property
    def transcribed(self) -> bool:
        return any(v.source == "transcript" for v in self.versions)

    @property
    def corrected(self) -> bool:
        return any(v.source == "correction" for v in self.versions)

    @property
    def shown_text(self) -> str:
        """The final text; a transcript left as heard keeps its uncertain words marked."""
        last = self.versions[-1] if self.versions else None
        if last is not None and last.source == "transcript" and last.marked:
            return last.marked
        return self.text


class Event(_Read):
    when: str
    parts: tuple[Part, ...] = ()


class Chosen(_Read):
    value: str
    label: str


class Item(_Read):
    number: int
    prompt_id: str
    kind: str
    prompt_text: str
    status: Literal["answered", "skipped", "not_answered"]
    chosen: tuple[Chosen, ...] = ()
    parts: tuple[Part, ...] = ()
    events: tuple[Event, ...] = ()
    paragraph: int | None = None
    help: str | None = None
    not_for_quoting: bool = False
    field: str | None = None  # job_title / agency: a fact about the person, not a quote

    @property
    def fixed(self) -> bool:
        """Whether the reference comes from the script's structure (not read-back numbering)."""
        return self.paragraph is not None


class Section(_Read):
    id: str
    title: str
    items: tuple[Item, ...]


class Meta(_Read):
    case_id: str
    participant_id: str
    interview_id: str
    role: str | None = None
    assembled_at: datetime
    label: str | None = None
    job_title: str | None = None
    agency: str | None = None


class Consent(_Read):
    take_part: bool
    quote: bool
    anonymised_publication: bool
    consent_ref: str
    consent_hash: str
    decided_at: datetime


class ConsentQuestion(_Read):
    key: str
    number: int
    text: str
    more: str
    yes_label: str
    no_label: str
    required: bool


class ConsentWording(_Read):
    version: int
    audience: str
    intro: tuple[str, ...]
    tell_me_more: tuple[str, ...]
    questions: tuple[ConsentQuestion, ...]
    not_now: str
    declined: str


class Statement(_Read):
    format: Literal["casevoice.statement/1"]
    script_ref: str
    script_id: str
    script_version: int
    script_hash: str
    title: str
    audience: str
    language: str = "en"
    meta: Meta
    consent: Consent
    sections: tuple[Section, ...]
    consent_wording: ConsentWording | None = None
    # Not from the file: whether the wording's hash is the one the consent record names.
    wording_verified: bool = False

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for s in self.sections for item in s.items)

    @property
    def code(self) -> str:
        return self.meta.participant_id


def parse_statement(data: bytes) -> Statement:
    """Read statement.json; ``PackageError`` if it is not a statement this desk knows."""
    try:
        raw: Any = json.loads(data)
    except ValueError as exc:
        raise PackageError("statement.json is not JSON") from exc
    if not isinstance(raw, dict) or raw.get("format") != STATEMENT_FORMAT:
        raise PackageError("statement.json is not a casevoice.statement/1 document")
    raw.pop("wording_verified", None)
    wording = raw.get("consent_wording")
    verified = isinstance(wording, dict) and (
        sha256_hex(canonical_json(wording)) == raw.get("consent", {}).get("consent_hash")
    )
    try:
        statement = Statement.model_validate(_writable(raw))
    except ValidationError as exc:
        raise PackageError(f"statement.json does not read ({exc.error_count()} problems)") from exc
    return statement.model_copy(update={"wording_verified": verified})


def _writable(value: Any) -> Any:
    if isinstance(value, str):
        return _UNWRITABLE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_writable(v) for v in value]
    if isinstance(value, dict):
        return {k: _writable(v) for k, v in value.items()}
    return value
