"""Telegram delivering the same updates again (same update ids) changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.people import Person
from tests.e2e.world import World, pending_ids, settle

pytestmark = pytest.mark.slow


def snapshot(world: World, interview_id: str) -> dict[str, Any]:
    return {
        "tables": world.table_counts(),
        "parts": world.active_parts(interview_id),
        "position": world.scalar("SELECT position FROM interviews WHERE id = ?", interview_id),
        "state": world.scalar("SELECT state FROM interviews WHERE id = ?", interview_id),
        "audit": world.scalar("SELECT count(*) FROM audit_events"),
        "rate_counters": world.rows("SELECT key, count FROM rate_counters"),
        "redeemed": world.scalar("SELECT count(*) FROM invites WHERE redeemed_at IS NOT NULL"),
    }


async def test_replayed_updates_change_nothing(world: World) -> None:
    # Given a professional part-way through: enrolled, consented, answers, a choice, a press
    person = Person(world.client, world.user(777000601))
    await person.consent(world.invites.professional[0])
    await person.answer(world.canary("Teacher"), world.canary("Year 2"))
    await person.answer(world.canary("Oak Lane Primary School"))
    assert await person.choose("agency_type", "education") == "experience"
    await person.say(world.canary("Eleven years"))
    await settle(world)
    interview_id, _ = world.interview_of(person.user_id)
    before = snapshot(world, interview_id)
    bot_messages = len(await person.bot_messages())
    assert before["parts"] == {"job_title": 2, "agency": 1, "agency_type": 1, "experience": 1}

    # When the bot restarts and Telegram delivers every one of those updates again
    await world.bot.kill()
    replayed = await world.client.replay_updates(person.updates)
    assert sorted(replayed) == sorted(person.updates)
    assert await pending_ids(world) == set(person.updates)
    await world.bot.start()
    await settle(world)

    # Then the bot took them (acknowledged) and changed nothing
    assert await pending_ids(world) == set()
    assert snapshot(world, interview_id) == before
    # and said nothing: the chat's next exchange is handled after them, replies and all, and
    # its two replies are the only messages added
    await person.command("resume", expect="Question 4 of")
    new = [str(m["text"]) for m in (await person.bot_messages())[bot_messages:]]
    assert len(new) == 2 and new[0].startswith("Welcome back"), new
    assert new[1].startswith("Question 4 of")
    assert await person.current_prompt() == "experience"

    # And a replay while the bot runs (it holds a later offset) is dropped as Telegram would:
    # the bot's next poll confirms it without its ever being handed to the bot again
    again = person.updates[-3:]
    handed = await deliveries(world, again)
    await world.client.replay_updates(again)
    await person.command("resume", expect="Question 4 of")
    await settle(world)
    assert await deliveries(world, again) == handed
    assert world.active_parts(interview_id) == before["parts"]


async def deliveries(world: World, update_ids: list[int]) -> int:
    """How many times getUpdates has handed any of these updates to the bot."""
    polls = await world.client.requests("getUpdates")
    return sum(1 for r in polls for u in r.get("update_ids", ()) if u in update_ids)
