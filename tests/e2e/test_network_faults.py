"""A flaky network and an unhappy Telegram: 429 (honouring retry_after), 5xx, slow answers and
dropped connections are retried; 400 and 403 are not. The conversation still completes, with
nothing lost and nothing duplicated."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.people import Person
from tests.e2e.world import World, settle, statement_of

pytestmark = pytest.mark.slow


def same_call(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["method"] == b["method"] and a.get("params") == b.get("params")


def not_retried(sends: list[dict[str, Any]], since: int, status: int) -> bool:
    """Exactly one send since `since` failed with `status`, and nothing after it repeated it
    before /resume's "Welcome back" (the next update in the chat)."""
    sends = sends[since:]
    failed = [i for i, r in enumerate(sends) if r.get("status") == status]
    welcome = next(
        i for i, r in enumerate(sends) if str(r["params"].get("text", "")).startswith("Welcome")
    )
    assert len(failed) == 1 and failed[0] < welcome, sends
    return not any(same_call(r, sends[failed[0]]) for r in sends[failed[0] + 1 : welcome])


async def log_of(world: World, method: str) -> list[dict[str, Any]]:
    return await world.client.requests(method)


async def test_the_conversation_survives_a_flaky_network(world: World) -> None:
    person = Person(world.client, world.user(777000701))

    # Polling: a response lost after Telegram processed it, then a 502
    for kind in ("drop_after", "502"):
        await world.client.inject_fault(kind, method="getUpdates")
    # Replies and button answers: server errors, a dropped connection, slow answers
    await world.client.inject_fault("500", method="sendMessage")
    await world.client.inject_fault("502", method="sendMessage")
    await world.client.inject_fault("drop", method="sendMessage")
    await world.client.inject_fault("delay", method="sendMessage", seconds=1.0, count=2)
    await world.client.inject_fault("502", method="answerCallbackQuery")
    await world.client.inject_fault("drop", method="answerCallbackQuery")
    await person.consent(world.invites.professional[0])
    assert (await world.client.faults())["pending"] == [], "not every fault was exercised"

    # 429 on the first of two replies to one press: it waits retry_after, and order is kept
    role = world.canary("Police constable")
    await person.answer(role)
    await person.answer(world.canary("Northshire Police, public protection unit"))
    await person.choose("agency_type", "police")
    await person.walk({"experience": [world.canary("Four years")]}, until="key_contacts")
    await world.client.inject_fault("429", method="sendMessage", retry_after=2)
    await world.client.inject_fault("429", method="answerCallbackQuery", retry_after=1)
    assert await person.skip("key_contacts") == "knew_then"
    sends = await log_of(world, "sendMessage")
    limited = [i for i, r in enumerate(sends) if r.get("fault") == "429"]
    assert len(limited) == 1
    retry = next(r for r in sends[limited[0] + 1 :] if same_call(r, sends[limited[0]]))
    assert retry["status"] == 200
    assert retry["time"] - sends[limited[0]]["time"] >= 2.0 - 0.05, "retry_after not honoured"
    answers = await log_of(world, "answerCallbackQuery")
    limited_cb = next(i for i, r in enumerate(answers) if r.get("fault") == "429")
    retry_cb = next(r for r in answers[limited_cb + 1 :] if same_call(r, answers[limited_cb]))
    assert retry_cb["time"] - answers[limited_cb]["time"] >= 1.0 - 0.05
    note, question = [m for m in await person.bot_messages()][-2:]
    assert note["text"].startswith("Before the next questions")
    assert question["text"].startswith("Question") and note["message_id"] < question["message_id"]

    # 400: the reply is rejected and not sent again; the person can carry on with /resume.
    # The chat's next update is handled only once this one's replies (and any retry) are done,
    # so the sends between the rejected one and /resume's reply are what the press led to.
    await world.client.inject_fault("400", method="sendMessage")
    before = len(await log_of(world, "sendMessage"))
    await person.press("skip:knew_then")
    await person.command("resume", expect="Welcome back")
    assert not_retried(await log_of(world, "sendMessage"), before, 400)
    assert await person.wait_for_next(None) == "info_sources"

    # 403: likewise never retried (and the rest of that update's replies are dropped)
    await world.client.inject_fault("403", method="sendMessage")
    before = len(await log_of(world, "sendMessage"))
    await person.say(world.canary("From the school and the health visitor"), expect=None)

    # The answer was kept all the same: /resume shows the question with its Done button
    await person.command("resume", expect="Welcome back")
    assert not_retried(await log_of(world, "sendMessage"), before, 403)
    assert await person.wait_for_next(None) == "info_sources"

    # The rest of the interview, and sending it
    await person.press("done:info_sources")
    await person.wait_for_next("info_sources")
    await person.walk(
        {
            "supervision": "helpful",
            "workload": "stretched",
            "workload_more": [world.canary("Thirty cases")],
            "info_sharing": "well",
            "follow_up": "yes",
        }
    )
    interview_id = world.interview_of(person.user_id)[0]
    assert world.active_parts(interview_id) == {
        "job_title": 1,
        "agency": 1,
        "agency_type": 1,
        "experience": 1,
        "info_sources": 1,
        "supervision": 1,
        "workload": 1,
        "workload_more": 1,
        "info_sharing": 1,
        "follow_up": 1,
    }
    for message_id in person.sent:
        assert world.parts_from_message(interview_id, message_id) == 1
    after = await person.high_water()
    await person.press("send")
    await person.wait("Receipt code:", after)
    await settle(world)
    state, statement_state, _ = statement_of(world, person.user_id)
    assert (state, statement_state) == ("submitted", "sealed")

    # Nothing duplicated: each question was sent once, but for the one /resume showed again
    questions = [
        m["text"].split("\n", 1)[0]
        for m in await person.bot_messages()
        if (m["text"] or "").startswith("Question")
    ]
    assert len(questions) == len(set(questions)) + 1, questions
    assert world.scalar("SELECT count(*) FROM answers WHERE interview_id = ?", interview_id) == 0
    saved = [
        r
        for r in await log_of(world, "sendMessage")
        if r.get("status") == 200 and str(r["params"]["text"]).startswith("Saved.")
    ]
    assert len(saved) == 5 - 1  # five answers; the 403 took one reply
