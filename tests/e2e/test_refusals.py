"""Who the bot refuses, and that refusing stores nothing: strangers, used and expired invites,
forwarded messages, group chats."""

from __future__ import annotations

import asyncio

import pytest

from interview.services import phrases as P
from tests.e2e.people import Person
from tests.e2e.world import World, inbox_state, invite_hash, until

pytestmark = pytest.mark.slow


async def test_strangers_used_and_expired_invites_get_one_neutral_line(world: World) -> None:
    before = world.table_counts()
    stranger = Person(world.client, world.user(777000201))

    # A stranger: /start alone, a made-up code, plain text and a forged button
    await stranger.command("start", expect=P.STRANGER)
    await stranger.command("start", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", expect=P.STRANGER)
    await stranger.say(world.canary("Hello, who is this?"), expect=P.STRANGER)
    after = await stranger.high_water()
    await stranger.press("done:relationship", force=True)
    await stranger.wait(P.STRANGER, after)
    replies = await stranger.bot_messages()
    assert [m["text"] for m in replies] == [P.STRANGER] * 4
    assert world.table_counts() == before
    assert world.scalar("SELECT count(*) FROM participants WHERE user_hash IS NOT NULL") == 0

    # An invite used by one person is refused to the next, neutrally
    first = Person(world.client, world.user(777000202))
    second = Person(world.client, world.user(777000203))
    code = world.invites.family[0]
    await first.consent(code)
    enrolled = world.table_counts()
    await second.command("start", code, expect=P.STRANGER)
    await second.say("is anybody there?", expect=P.STRANGER)

    # An expired invite is refused the same way
    late = Person(world.client, world.user(777000204))
    expired = world.invites.family[1]
    world.write(
        "UPDATE invites SET expires_at = '2020-01-01 00:00:00.000000' WHERE code_hash = ?",
        invite_hash(world, expired),
    )
    await late.command("start", expired, expect=P.STRANGER)

    # Then nothing is held for them but a failure counter
    assert world.table_counts() == enrolled
    for person in (stranger, second, late):
        assert (
            world.scalar(
                "SELECT count(*) FROM participants WHERE user_hash = ?",
                world.user_hash(person.user_id),
            )
            == 0
        )
    bound = world.rows("SELECT user_hash FROM participants WHERE user_hash IS NOT NULL")
    assert bound == [(world.user_hash(first.user_id),)]
    assert world.rows(
        "SELECT redeemed_by_hash FROM invites WHERE code_hash = ?", invite_hash(world, code)
    ) == [(world.user_hash(first.user_id),)]
    assert (
        world.scalar(
            "SELECT redeemed_at FROM invites WHERE code_hash = ?", invite_hash(world, expired)
        )
        is None
    )
    assert world.scalar("SELECT count(*) FROM rate_counters") >= 1
    # and the first person's interview is untouched
    assert await first.current_prompt() == "relationship"


async def test_forwarded_messages_and_group_chats_are_refused(world: World) -> None:
    person = Person(world.client, world.user(777000301))
    await person.consent(world.invites.professional[0])
    interview_id, _ = world.interview_of(person.user_id)

    # A forwarded message is not taken as an answer
    forwarded = world.canary("Somebody else's account of events")
    after = await person.high_water()
    await world.client.send_forwarded(person.user_id, forwarded, sender_name="A colleague")
    await person.wait("forwarded messages", after)
    assert world.active_parts(interview_id) == {}
    assert await person.current_prompt() == "job_title"
    # and a real answer right after is taken
    await person.say(world.canary("Teacher"))
    assert world.active_parts(interview_id) == {"job_title": 1}

    # Added to a group: the bot says why, leaves, and stores nothing
    before = world.table_counts()
    group = -100777000301
    await world.client.inject_fault("delay", method="leaveChat", seconds=1.0, count=3)
    await world.client.add_bot_to_group(person.user_id, group, title="Family group")
    await world.client.wait_for_bot_message(group, contains="private chat")
    # While it is on its way out, someone tries an invite code in the group
    code = world.invites.professional[1]
    sent = await world.client.send_command(person.user_id, "start", code, chat_id=group)
    assert sent["queued"], "the group command never reached the bot"
    left = await _wait_for_request(world, "leaveChat", group)
    assert left["status"] == 200
    # once the bot has handled that command (its effects commit with the inbox mark)
    await until(lambda: inbox_state(world, sent["update_id"]) == "done")
    chat = await world.client.chat(group)
    assert chat["bot_is_member"] is False
    assert world.table_counts() == before
    assert (
        world.scalar(
            "SELECT redeemed_at FROM invites WHERE code_hash = ?", invite_hash(world, code)
        )
        is None
    )
    assert world.scalar("SELECT count(*) FROM participants WHERE user_hash IS NOT NULL") == 1
    assert await person.current_prompt() == "job_title"


async def _wait_for_request(world: World, method: str, chat_id: int) -> dict[str, object]:
    for _ in range(200):
        for request in await world.client.requests(method):
            if request["params"].get("chat_id") == chat_id and "status" in request:
                return request
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {method} for chat {chat_id}")
