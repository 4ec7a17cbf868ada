"""/withdraw and /delete (each with one confirmation) crypto-shred; /clear empties the chat."""

from __future__ import annotations

import pytest

from interview.services import phrases as P
from tests.e2e.people import Person
from tests.e2e.world import World

pytestmark = pytest.mark.slow


def dek_of(world: World, interview_id: str) -> str | None:
    return world.scalar("SELECT dek_id FROM interviews WHERE id = ?", interview_id)


def shredded(world: World, key_id: str) -> bool:
    return bool(
        world.scalar("SELECT count(*) FROM shredded_keys WHERE key_id = ?", key_id)
    ) and not world.scalar("SELECT count(*) FROM data_keys WHERE id = ?", key_id)


async def test_withdraw_then_clear_the_chat(world: World) -> None:
    # Given someone part-way through their interview
    person = Person(world.client, world.user(777000401))
    await person.consent(world.invites.family[0])
    await person.answer(world.canary("I am her grandad"))
    await person.say(world.canary("Maisie"))
    interview_id, _ = world.interview_of(person.user_id)
    key_id = dek_of(world, interview_id)
    assert key_id is not None and world.active_parts(interview_id) == {
        "relationship": 1,
        "child_name": 1,
    }

    # "No" to the confirmation changes nothing
    await person.command("withdraw", expect="Do you want to withdraw?")
    await person.press("wdn", expect=P.KEPT)
    assert world.active_parts(interview_id) == {"relationship": 1, "child_name": 1}

    # "Yes" shreds the data key and deletes the answers
    await person.command("withdraw", expect="Do you want to withdraw?")
    await person.press("wdy", expect="You have withdrawn")
    assert world.interview_of(person.user_id)[1] == "withdrawn"
    assert world.scalar("SELECT count(*) FROM answers WHERE interview_id = ?", interview_id) == 0
    assert (
        world.scalar(
            "SELECT count(*) FROM answer_versions v JOIN answers a "
            "ON a.id = v.answer_id WHERE a.interview_id = ?",
            interview_id,
        )
        == 0
    )
    assert shredded(world, key_id)
    assert (
        world.scalar(
            "SELECT status FROM participants WHERE user_hash = ?", world.user_hash(person.user_id)
        )
        == "withdrawn"
    )
    await person.say("hello again", expect=P.NOTHING_HELD)

    # /clear deletes what Telegram still allows: every earlier message in the chat
    after = await person.high_water()
    await person.command("clear", expect="Messages cleared")
    # (the deletions go out before this reply, in the same update's outbox)
    cleared = await person.wait("Messages cleared", after)
    deletions = [
        *await world.client.requests("deleteMessages"),
        *await world.client.requests("deleteMessage"),
    ]
    assert any(r.get("status") == 200 for r in deletions)
    remaining = [
        m
        for m in await person.messages(include_deleted=False)
        if m["message_id"] < cleared["message_id"]
    ]
    assert remaining == [], f"{len(remaining)} message(s) survived /clear"


async def test_delete_everything(world: World) -> None:
    person = Person(world.client, world.user(777000402))
    await person.consent(world.invites.professional[0])
    await person.answer(world.canary("Social worker"))
    interview_id, _ = world.interview_of(person.user_id)
    key_id = dek_of(world, interview_id)
    assert key_id is not None

    await person.command("delete", expect="Do you want to delete it all?")
    await person.press("dln", expect=P.KEPT)
    assert world.active_parts(interview_id) == {"job_title": 1}
    await person.command("delete", expect="Do you want to delete it all?")
    await person.press("dly", expect="permanently deleted")

    # The answers, the key and the link to the Telegram account are gone
    assert world.scalar("SELECT count(*) FROM answers WHERE interview_id = ?", interview_id) == 0
    assert shredded(world, key_id)
    assert (
        world.scalar(
            "SELECT count(*) FROM participants WHERE user_hash = ?", world.user_hash(person.user_id)
        )
        == 0
    )
    assert world.scalar("SELECT state FROM interviews WHERE id = ?", interview_id) == "deleted"
    # so the person is a stranger now, and the used invite does not bring anything back
    await person.command("resume", expect=P.STRANGER)
    await person.command("start", world.invites.professional[0], expect=P.STRANGER)
