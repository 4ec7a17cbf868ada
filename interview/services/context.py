"""Who is talking and where their interview stands, loaded once per incoming event."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.engine import Cursor
from interview.script import InterviewScript
from interview.services.scripts import ScriptCatalog
from storage.tables import Case, Interview, InterviewState, Participant, utcnow

# The states the conversation routes on, by group.
FINISHED = frozenset({InterviewState.WITHDRAWN, InterviewState.DELETED})
ANSWERING = frozenset({InterviewState.INTERVIEW, InterviewState.PAUSED, InterviewState.READBACK})


class Position(BaseModel):
    """The interview's pointer, kept on the interview row: ids and flags, never content."""

    model_config = ConfigDict(extra="ignore")

    cursor: Cursor | None = None
    skipped: list[str] = []
    consent_step: str | None = None
    consent: dict[str, bool] = {}
    awaiting: str | None = None
    editing: bool = False
    edit_fresh: bool = False

    @classmethod
    def parse(cls, raw: str | None) -> Position:
        if not raw:
            return cls()
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return cls()


@dataclass
class Ctx:
    participant: Participant
    interview: Interview
    case: Case
    script: InterviewScript
    pos: Position

    @property
    def state(self) -> InterviewState:
        return InterviewState(self.interview.state)

    def save(self, session: AsyncSession, state: InterviewState | None = None) -> None:
        if state is not None:
            self.interview.state = state
        self.interview.position = self.pos.model_dump_json(exclude_defaults=True)
        self.interview.updated_at = utcnow()
        session.add(self.interview)


async def load_ctx(
    session: AsyncSession, scripts: ScriptCatalog, user_hash: str, participant_id: str | None = None
) -> Ctx | None:
    """The person's current interview: the given one, else the most recently active."""
    query = (
        select(Participant, Interview, Case)
        .join(Interview, col(Interview.participant_id) == Participant.id)
        .join(Case, col(Case.id) == Participant.case_id)
        .where(col(Participant.user_hash) == user_hash)
        .order_by(col(Interview.updated_at).desc())
    )
    if participant_id is not None:
        query = query.where(col(Participant.id) == participant_id)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    participant, interview, case = row
    script = await scripts.by_hash(session, case, participant.role, interview.script_hash)
    return Ctx(participant, interview, case, script, Position.parse(interview.position))
