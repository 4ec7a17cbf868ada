"""A button that is not the person's to press now (from an earlier message, or forged data) is
answered kindly and changes nothing, in every part of the conversation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from bot.container import Container
from interview.services import phrases as P
from storage.tables import Answer, Interview
from tests.integration.conversation import CASE, CONSENT, Participant, prompt_of
from tests.integration.test_sealing import container

__all__ = ["container"]  # the fixture, shared with the sealing tests

NOT_OURS = ["zzz", "send:extra", "ed:two", "ed:-1", "cy:everything", "ch:a:b:c", ""]


async def snapshot(c: Container) -> tuple[str, str | None, int]:
    async with c.sessions() as session:
        interview = (await session.execute(select(Interview))).scalars().one()
        answers = (await session.execute(select(func.count()).select_from(Answer))).scalar_one()
        return interview.state, interview.position, int(answers)


async def assert_refused_kindly(person: Participant, c: Container, *presses: str) -> None:
    before = await snapshot(c)
    for data in presses:
        outcome = await person.press(data)
        assert outcome.toast == P.STALE_BUTTON, data
        assert not outcome.says and not outcome.clear_pressed, data
        assert await snapshot(c) == before, data


async def test_stale_and_forged_buttons_change_nothing(container: tuple[Container, Path]) -> None:
    c, _ = container
    code = (await c.invites.create(CASE, "family")).code
    person = Participant(c, 9101)
    await person._in_tx("start", code)
    await person.press("ok")

    # While consent is asked: a later question's button, a prompt's button, and junk
    await assert_refused_kindly(person, c, "cy:quote", "done:child_name", *NOT_OURS)

    for key in CONSENT:
        outcome = await person.press(f"cy:{key}")
    prompt = prompt_of(outcome)
    assert prompt is not None

    # During the interview: another prompt's buttons, a read-back button, and junk
    await assert_refused_kindly(person, c, "skip:not_this_one", "ch:other:value", "ed:1")
    await assert_refused_kindly(person, c, *NOT_OURS)
    assert prompt_of(await person.press(f"pause:{prompt}")) is None  # its own buttons still work
