"""`kill -9` at any point mid-interview: every answer is stored exactly once and the person
carries on at the same prompt after a restart."""

from __future__ import annotations

import pytest

from tests.e2e.people import Person
from tests.e2e.world import (
    World,
    WriteLock,
    delivered,
    inbox_state,
    pending_ids,
    settle,
    until,
)

pytestmark = pytest.mark.slow


async def test_sigkill_at_many_points_loses_nothing_and_duplicates_nothing(world: World) -> None:
    person = Person(world.client, world.user(777000501))
    await person.consent(world.invites.family[0])
    interview_id, _ = world.interview_of(person.user_id)

    # 1. Killed right after an answer was sent, before any reply
    await person.say(world.canary("I am his dad"), expect=None)
    await world.bot.kill()
    await world.bot.start()
    await settle(world)
    assert world.parts_from_message(interview_id, person.sent[-1]) == 1
    await person.command("resume", expect="Question 1 of")
    assert await person.current_prompt() == "relationship"

    # 2. Killed right after a button press: on restart the press has counted, once
    await person.press("done:relationship")
    await world.bot.kill()
    await world.bot.start()
    await settle(world)
    await person.command("resume", expect="Question 2 of")
    assert await person.current_prompt() == "child_name"

    # 3. Killed while the bot waits to write the update to its inbox: neither stored nor
    #    acknowledged, so Telegram delivers it again after the restart
    with WriteLock(world):
        await person.say(world.canary("Our boy Tomasz"), expect=None)
        held = person.updates[-1]
        await until(lambda: delivered(world, held))  # the bot has it; the lock keeps it unstored
        await world.bot.kill()
    assert held in await pending_ids(world) and inbox_state(world, held) is None
    await world.bot.start()
    await settle(world)
    assert world.parts_from_message(interview_id, person.sent[-1]) == 1

    # 4. Two quick answers; killed while the second waits in the inbox (acknowledged, not yet
    #    handled) behind the first one's slow reply
    await world.client.inject_fault("delay", method="sendMessage", seconds=3.0)
    await person.say(world.canary("or Tom"), expect=None)
    await person.say(world.canary("or Tommy at home"), expect=None)
    first, second = person.updates[-2:]
    await until(
        lambda: inbox_state(world, first) == "done" and inbox_state(world, second) == "pending"
    )

    async def acknowledged() -> bool:
        return second not in await pending_ids(world)

    await until(acknowledged)
    await world.bot.kill()
    assert inbox_state(world, second) == "pending"
    await world.bot.start()
    await settle(world)
    for message_id in person.sent[-2:]:
        assert world.parts_from_message(interview_id, message_id) == 1
    await person.command("resume", expect="Question 2 of")
    assert await person.current_prompt() == "child_name"

    # 5. Killed after a press was committed but while its replies were still on their way
    await world.client.inject_fault("delay", method="answerCallbackQuery", seconds=3.0)
    await person.press("done:child_name")
    await until(
        lambda: (
            '"about_child"'
            in (world.scalar("SELECT position FROM interviews WHERE id = ?", interview_id) or "")
        )
    )
    await world.bot.kill()
    await world.bot.start()
    await settle(world)
    await person.command("resume", expect="Question 3 of")
    assert await person.current_prompt() == "about_child"

    # Then every answer is there exactly once
    assert world.active_parts(interview_id) == {"relationship": 1, "child_name": 3}
    for message_id in person.sent:
        assert world.parts_from_message(interview_id, message_id) == 1
    assert world.bot.starts == 6
    # and the person can go on as if nothing happened
    await person.answer(world.canary("Kind and loud"))
    assert await person.current_prompt() == "things_they_enjoy"
