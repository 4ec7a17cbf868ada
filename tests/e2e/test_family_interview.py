"""A family member's whole interview, against the real bot process and the sandbox Bot API."""

from __future__ import annotations

import pytest

from tests.e2e.people import Person
from tests.e2e.world import CASE_REF, CASE_TITLE, World, statement_of

pytestmark = pytest.mark.slow


def first_line(message: dict[str, object]) -> str:
    return str(message.get("text") or "").split("\n", 1)[0]


async def test_a_family_member_gives_a_whole_statement(world: World) -> None:
    # Given a family member with an invite
    mum = Person(world.client, world.user(777000123))
    relationship = [world.canary("I am his aunt"), world.canary("and I had him at weekends")]
    child_name = world.canary("Zephyrine")
    new_name = world.canary("Zephyrine Rose")

    # When they enrol, read more, and consent: take part yes, quotes no, publication yes
    await mum.consent(world.invites.family[0], (True, False, True), tell_me_more=True)

    # Then the first prompt is on screen, and the invite code was taken out of the chat
    assert await mum.current_prompt() == "relationship"
    start = next(m for m in await mum.messages() if (m["text"] or "").startswith("/start"))
    assert start["deleted"], "the /start message with the secret code stays in the chat"

    # An answer in several messages, then Done
    assert await mum.answer(*relationship) == "relationship"
    assert await mum.answer(child_name) == "child_name"

    # A content note comes before the harder section; Back goes to the previous question
    assert await mum.current_prompt() == "about_child"
    notes = [m for m in await mum.bot_messages() if first_line(m) == "Before the next questions"]
    assert notes, "no content note before the section about the child"
    after = await mum.high_water()
    await mum.press("back:about_child")
    await mum.wait("Question 2 of", after)
    assert await mum.current_prompt() == "child_name"
    await mum.press("done:child_name")
    assert await mum.wait_for_next("child_name") == "about_child"

    await mum.answer(world.canary("He loved the sea"))
    after = await mum.high_water()
    await mum.press("skip:things_they_enjoy")
    await mum.wait("Question 5 of", after)
    assert await mum.current_prompt() == "daily_life"
    await mum.answer(world.canary("Nursery in the mornings"))
    assert await mum.current_prompt() == "services_involved"

    # /pause, then /resume: back at the same prompt
    await mum.command("pause", expect="Paused")
    assert world.interview_of(mum.user_id)[1] == "paused"
    await mum.command("resume", expect="Question 6 of")
    assert await mum.current_prompt() == "services_involved"

    # A multiple choice: tick school and police, untick police, then Done
    def ticked(label: str, on: bool = True) -> object:
        def check(messages: list[dict[str, object]]) -> bool:
            last = messages[-1]
            labels = [b["text"] for b in last["buttons"]]  # type: ignore[index]
            return (f"✓ {label}" in labels) == on

        return check

    await mum.press("ch:services_involved:school")
    await mum.wait_until(ticked("School or nursery"))
    await mum.press("ch:services_involved:police")
    await mum.wait_until(ticked("Police"))
    await mum.press("ch:services_involved:police")
    await mum.wait_until(ticked("Police", on=False))
    await mum.press("done:services_involved")

    # The school question appears (show_if), the police one does not
    assert await mum.wait_for_next("services_involved") == "school_experience"
    await mum.answer(world.canary("The school noticed"))
    assert await mum.current_prompt() == "listened_to"
    await mum.press("ch:listened_to:sometimes")
    assert await mum.wait_for_next("listened_to") == "listened_to_more"
    await mum.answer(world.canary("At the meeting in May"))

    # A chronology: one event per message
    assert await mum.current_prompt() == "key_events"
    events = [
        world.canary("12 March 2024 - the first home visit"),
        world.canary("Summer 2023: we moved house"),
    ]
    await mum.answer(*events)
    await mum.answer(world.canary("The health visitor"))
    after = await mum.high_water()
    await mum.press("skip:helped_more")
    await mum.wait("Question", after)

    # "Skip this part" skips the rest of a section with a content note
    assert await mum.current_prompt() == "not_helped"
    await mum.press("skipsec:not_helped")
    assert await mum.wait_for_next("not_helped") == "wish"
    await mum.answer(world.canary("That someone had listened"))
    after = await mum.high_water()
    await mum.press("skip:for_other_families")
    await mum.wait("Question", after)
    await mum.answer(world.canary("Nothing else"))
    after = await mum.high_water()
    await mum.press("ch:contact_again:later")

    # Then the read-back holds what was said
    await mum.wait("Your statement is ready", after)
    readback = "\n".join(m["text"] or "" for m in await mum.bot_messages(after))
    for text in [*relationship, child_name, *events]:
        assert text.split(" - ")[-1].split(": ")[-1] in readback
    assert "Skipped" in readback
    assert "Quote your words (described as a family member): no" in readback
    assert "Anonymised quotes in the published report: yes" in readback

    # Editing by typing a number
    after = await mum.high_water()
    await mum.say("2", expect=None)
    await mum.wait("Changing your answer to question 2", after)
    shown = "\n".join(m["text"] or "" for m in await mum.bot_messages(after))
    assert child_name in shown, "the current answer is not shown when editing"
    await mum.say(new_name)
    await mum.press("done:child_name")
    after_edit = await mum.high_water()
    await mum.wait_for_next("child_name")
    readback = "\n".join(m["text"] or "" for m in await mum.bot_messages(after_edit - 1))
    assert new_name in readback and child_name not in readback.replace(new_name, "")

    # Editing with the button, and keeping the answer after all
    after = await mum.high_water()
    await mum.press("edit", expect="Which answer")
    await mum.press("ed:1")
    await mum.wait("Changing your answer to question 1", after)
    after = await mum.high_water()
    await mum.press("keep:relationship")
    await mum.wait("Your statement is ready", after)

    interview_id = world.interview_of(mum.user_id)[0]
    # Before sending, every answer is stored once: the parts per prompt are exactly what was given
    parts = world.active_parts(interview_id)
    assert parts == {
        "relationship": 2,
        "child_name": 1,
        "about_child": 1,
        "daily_life": 1,
        "services_involved": 1,
        "school_experience": 1,
        "listened_to": 1,
        "listened_to_more": 1,
        "key_events": 2,
        "helped": 1,
        "wish": 1,
        "anything_else": 1,
        "contact_again": 1,
    }
    for message_id in mum.sent:
        assert world.parts_from_message(interview_id, message_id) <= 1
    # The edit kept the old name as a superseded part, not a second active one
    assert (
        world.scalar(
            "SELECT count(*) FROM answers WHERE interview_id = ? AND "
            "prompt_id = 'child_name' AND status = 'superseded'",
            interview_id,
        )
        == 1
    )
    consent = world.rows(
        "SELECT take_part, quote, anonymised_publication FROM consent_records"
        " WHERE interview_id = ? ORDER BY created_at",
        interview_id,
    )
    assert consent[0] == (1, 0, 1)

    # Sending it: submitted (the Statement row), then sealed with a receipt
    after = await mum.high_water()
    await mum.press("send")
    await mum.wait("Thank you", after)
    await mum.wait("Receipt code:", after)
    interview_state, statement_state, code = statement_of(world, mum.user_id)
    assert interview_state == "submitted" and statement_state == "sealed" and code
    assert world.active_parts(interview_id) == {}, "the readable copy outlived sealing"

    # Safety: every message protected, no first line names the child or the case
    sends = await world.client.requests("sendMessage")
    assert sends and all(r["params"].get("protect_content") is True for r in sends)
    for message in await mum.bot_messages():
        line = first_line(message)
        for secret in ("Zephyrine", CASE_TITLE, "Quillon", CASE_REF):
            assert secret not in line, f"a first line names {secret!r}: {line!r}"
