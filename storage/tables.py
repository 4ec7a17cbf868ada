"""SQLModel tables. Columns ending in ``_ct`` hold FieldCipher ciphertext; nothing else holds
content. Telegram user ids appear only as keyed hashes (``*_hash``).

The schema is created and changed only by Alembic (``storage/migrations``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware ones")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def _when(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable, **kw)


# State words. Columns store the plain string (VARCHAR, no database enum type), so a StrEnum
# member and the string read back compare equal, and a new state needs no schema change.


class InterviewState(StrEnum):
    """Where a participant's conversation stands (``interviews.state``)."""

    INVITED = "invited"  # an invite exists; nobody has used it yet
    INTRO = "intro"  # reading the introduction
    CONSENT = "consent"  # answering the consent questions, one at a time
    DECLINED = "declined"  # said no to taking part; may come back and say yes
    INTERVIEW = "interview"  # answering prompts
    PAUSED = "paused"
    READBACK = "readback"  # reading the statement back before sending it
    SUBMITTED = "submitted"  # sent to the reviewer
    WITHDRAWN = "withdrawn"  # withdrew: everything readable erased
    DELETED = "deleted"  # asked for deletion: everything readable erased, identity forgotten


class ParticipantStatus(StrEnum):
    """``participants.status``: the person behind an invite."""

    INVITED = "invited"
    ENROLLED = "enrolled"  # used their invite
    WITHDRAWN = "withdrawn"
    DELETED = "deleted"  # their identity (the keyed hash) is forgotten too


class StatementState(StrEnum):
    """``statements.state``: handed to sealing, sealed into the evidence store, or withdrawn."""

    SUBMITTED = "submitted"
    SEALED = "sealed"
    WITHDRAWN = "withdrawn"


class AnswerStatus(StrEnum):
    """``answers.status``: only active parts count towards the statement."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"  # replaced (an edit, "record again", a new choice)
    UNHEARD = "unheard"  # a voice note that could not be transcribed: kept, encrypted


class DataKeyRow(SQLModel, table=True):
    """A data key, wrapped by a KEK. Deleting the row crypto-shreds what it protected."""

    __tablename__ = "data_keys"
    id: str = Field(primary_key=True, max_length=32)
    kek_id: str = Field(max_length=64, index=True)
    wrapped: bytes
    purpose: str = Field(max_length=32)
    created_at: datetime = _when(default_factory=utcnow)


class ShreddedKey(SQLModel, table=True):
    __tablename__ = "shredded_keys"
    key_id: str = Field(primary_key=True, max_length=32)
    shredded_at: datetime = _when(default_factory=utcnow)
    reason: str = Field(max_length=32)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    ref: str = Field(unique=True, max_length=64)
    dek_id: str = Field(max_length=32)
    title_ct: bytes | None = None
    deadline: date | None = None
    withdraw_until: date | None = None
    delete_answers_from_chat: bool = False
    include_audio: bool = False
    retention: str = Field(default="erase-after-sealing", max_length=32)
    status: str = Field(default="open", max_length=16)
    created_at: datetime = _when(default_factory=utcnow)


class ReviewerRecipient(SQLModel, table=True):
    """An age X25519 recipient (a public key: not secret)."""

    __tablename__ = "reviewer_recipients"
    __table_args__ = (sa.UniqueConstraint("case_id", "recipient"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32, ondelete="CASCADE")
    recipient: str = Field(max_length=128)
    created_at: datetime = _when(default_factory=utcnow)


class CaseScript(SQLModel, table=True):
    """A case's own interview script for one role (encrypted: it may name the child)."""

    __tablename__ = "case_scripts"
    __table_args__ = (sa.UniqueConstraint("case_id", "role"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32, ondelete="CASCADE")
    role: str = Field(max_length=16)
    script_id: str = Field(max_length=64)
    content_hash: str = Field(max_length=64)
    yaml_ct: bytes
    created_at: datetime = _when(default_factory=utcnow)


class Participant(SQLModel, table=True):
    __tablename__ = "participants"
    __table_args__ = (sa.UniqueConstraint("case_id", "pseudonym"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32, ondelete="CASCADE")
    role: str = Field(max_length=16)
    pseudonym: str = Field(max_length=16)
    label_ct: bytes | None = None
    user_hash: str | None = Field(default=None, index=True, max_length=64)
    status: str = Field(default=ParticipantStatus.INVITED, max_length=16)
    created_at: datetime = _when(default_factory=utcnow)


class Invite(SQLModel, table=True):
    __tablename__ = "invites"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32, ondelete="CASCADE")
    participant_id: str = Field(
        foreign_key="participants.id", index=True, max_length=32, ondelete="CASCADE"
    )
    code_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = _when(default_factory=utcnow)
    expires_at: datetime = _when()
    redeemed_at: datetime | None = _when(nullable=True, default=None)
    redeemed_by_hash: str | None = Field(default=None, max_length=64)


class Interview(SQLModel, table=True):
    """One participant's interview. Its data key protects everything they give."""

    __tablename__ = "interviews"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    participant_id: str = Field(
        foreign_key="participants.id", unique=True, max_length=32, ondelete="CASCADE"
    )
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32, ondelete="CASCADE")
    dek_id: str | None = Field(default=None, max_length=32)
    script_id: str = Field(max_length=64)
    script_hash: str = Field(max_length=64)
    state: str = Field(default=InterviewState.INVITED, max_length=24)
    position: str | None = Field(default=None, max_length=2000)
    started_at: datetime | None = _when(nullable=True, default=None)
    updated_at: datetime = _when(default_factory=utcnow)
    submitted_at: datetime | None = _when(nullable=True, default=None)


class Answer(SQLModel, table=True):
    """One part of an answer to a prompt (a text message, a voice note, a choice, a date)."""

    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("interview_id", "source_key"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    interview_id: str = Field(
        foreign_key="interviews.id", index=True, max_length=32, ondelete="CASCADE"
    )
    prompt_id: str = Field(max_length=64)
    script_hash: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    seq: int = 0
    text_ct: bytes | None = None
    status: str = Field(default=AnswerStatus.ACTIVE, max_length=16)
    source_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)


class AnswerVersion(SQLModel, table=True):
    """Every version of an answer's text: typed, transcribed, corrected, edited; and by whom."""

    __tablename__ = "answer_versions"
    __table_args__ = (sa.UniqueConstraint("answer_id", "version"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    answer_id: str = Field(foreign_key="answers.id", index=True, max_length=32, ondelete="CASCADE")
    version: int
    source: str = Field(max_length=16)
    author: str = Field(max_length=16)
    text_ct: bytes
    model_id: str | None = Field(default=None, max_length=128)
    created_at: datetime = _when(default_factory=utcnow)


class AudioBlob(SQLModel, table=True):
    __tablename__ = "audio_blobs"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    interview_id: str = Field(
        foreign_key="interviews.id", index=True, max_length=32, ondelete="CASCADE"
    )
    answer_id: str | None = Field(
        default=None, foreign_key="answers.id", index=True, max_length=32, ondelete="CASCADE"
    )
    mime_type: str = Field(max_length=64)
    duration_s: float | None = None
    size: int
    data_ct: bytes
    created_at: datetime = _when(default_factory=utcnow)


class Transcript(SQLModel, table=True):
    """What Whisper heard (segments with timings and confidence), encrypted."""

    __tablename__ = "transcripts"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    audio_id: str = Field(
        foreign_key="audio_blobs.id", index=True, max_length=32, ondelete="CASCADE"
    )
    model_id: str = Field(max_length=128)
    model_sha256: str = Field(max_length=64)
    language: str | None = Field(default=None, max_length=16)
    duration_s: float | None = None
    body_ct: bytes
    created_at: datetime = _when(default_factory=utcnow)


class ConsentRecord(SQLModel, table=True):
    __tablename__ = "consent_records"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    interview_id: str = Field(
        foreign_key="interviews.id", index=True, max_length=32, ondelete="CASCADE"
    )
    stage: str = Field(max_length=16)
    take_part: bool
    quote: bool
    anonymised_publication: bool
    consent_text_hash: str = Field(max_length=64)
    created_at: datetime = _when(default_factory=utcnow)


class Statement(SQLModel, table=True):
    __tablename__ = "statements"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    interview_id: str | None = Field(
        default=None, foreign_key="interviews.id", unique=True, max_length=32, ondelete="SET NULL"
    )
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=32, ondelete="CASCADE")
    participant_id: str | None = Field(default=None, max_length=32)
    role: str = Field(max_length=16)
    pseudonym: str = Field(max_length=16)
    state: str = Field(default=StatementState.SUBMITTED, max_length=16)
    body_ct: bytes | None = None
    submitted_at: datetime = _when(default_factory=utcnow)
    sealed_at: datetime | None = _when(nullable=True, default=None)
    sealed_sha256: str | None = Field(default=None, max_length=64)
    receipt_code: str | None = Field(default=None, max_length=32)
    object_key: str | None = Field(default=None, max_length=256)
    withdrawn_at: datetime | None = _when(nullable=True, default=None)


class AuditEvent(SQLModel, table=True):
    """Hash-chained audit log: ids and actions only, never content."""

    __tablename__ = "audit_events"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = _when()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    subject: str = Field(max_length=2000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class RateCounter(SQLModel, table=True):
    __tablename__ = "rate_counters"
    key: str = Field(primary_key=True, max_length=80)
    window_start: datetime = _when()
    count: int = 0
