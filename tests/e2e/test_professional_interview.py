"""A professional's whole interview: required prompts, help, branching, Not yet, edits, sending."""

from __future__ import annotations

import pytest

from tests.e2e.people import Person
from tests.e2e.world import World, statement_of

pytestmark = pytest.mark.slow


async def test_a_professional_gives_a_whole_statement(world: World) -> None:
    # Given a professional who consents to take part and to be quoted, not to publication
    worker = Person(world.client, world.user(777000456))
    role = world.canary("Health visitor")
    agency = world.canary("Northshire community trust")
    await worker.consent(world.invites.professional[0], (True, True, False))
    assert await worker.current_prompt() == "job_title"

    # The required first question has no Skip button, and a forged Skip is refused kindly
    question = (await worker.bot_messages())[-1]
    assert not any(b["callback_data"].startswith("skip:") for b in question["buttons"])
    pressed = await worker.press("skip:job_title", force=True)
    toast = await worker.toast(pressed["callback_query"]["id"])
    assert toast is not None and "We need an answer to this question" in toast
    assert await worker.current_prompt() == "job_title"

    # Done with nothing said yet, and the help button, each get a plain reply
    await worker.press("done:job_title", force=True, expect="Nothing is saved for this question")
    await worker.press("help:job_title", expect="For example")

    # Answer job title and organisation (structured fields), choose, pause and resume
    assert await worker.answer(role) == "job_title"
    assert await worker.current_prompt() == "agency"
    await worker.answer(agency)
    assert await worker.choose("agency_type", "health") == "experience"
    await worker.press("pause:experience", expect="Paused")
    await worker.press("resume", expect="Question 4 of")
    assert await worker.current_prompt() == "experience"

    contacts = [
        world.canary("3 May 2024 - home visit, mother seen"),
        world.canary("20 June 2024 - call from the school"),
    ]
    seen = await worker.walk(
        {
            "experience": [world.canary("About six years")],
            "involvement_period": ["From March to June 2024"],
            "key_contacts": contacts,
            "actions_taken": [world.canary("I made a referral")],
            "supervision": "mixed",
            "supervision_more": [world.canary("Monthly, often cancelled")],
            "workload": "manageable",
            "info_sharing": "poorly",
        },
        until="info_sharing_more",
    )
    # A branch opened by a choice, and one not opened
    assert "supervision_more" in seen and "workload_more" not in seen
    assert await worker.current_prompt() == "info_sharing_more"

    # Back from the branch to the choice; a different choice closes the branch again
    await worker.press("back:info_sharing_more")
    assert await worker.wait_for_next("info_sharing_more") == "info_sharing"
    assert await worker.choose("info_sharing", "well") == "meetings"
    seen += await worker.walk({"meetings": [world.canary("A strategy discussion")]})
    assert "info_sharing_more" not in seen[seen.index("meetings") :]
    readback = "\n".join(m["text"] or "" for m in await worker.bot_messages())
    assert (
        "What got in the way of sharing information?"
        not in readback.rsplit("Your answers (part 1", 1)[-1]
    )

    # "Not yet", then /resume brings the read-back back
    await worker.press("later", expect="nothing has been sent")
    await worker.command("resume", expect="Your statement is ready")

    # Change the first answer with the buttons
    new_role = world.canary("Senior health visitor")
    after = await worker.high_water()
    await worker.press("edit", expect="Which answer")
    await worker.press("ed:1")
    await worker.wait("Changing your answer to question 1", after)
    await worker.say(new_role)
    after = await worker.high_water()
    await worker.press("done:job_title")
    await worker.wait("Your statement is ready", after)
    readback = "\n".join(m["text"] or "" for m in await worker.bot_messages(after))
    assert new_role in readback and role not in readback.replace(new_role, "")
    for contact in contacts:
        assert contact.split(" - ", 1)[1] in readback
    assert "Anonymised quotes in the published report: no" in readback
    assert "Quote your words (described by your role): yes" in readback

    interview_id = world.interview_of(worker.user_id)[0]
    parts = world.active_parts(interview_id)
    assert parts["job_title"] == 1 and parts["agency"] == 1 and parts["key_contacts"] == 2
    assert parts["supervision_more"] == 1 and "workload_more" not in parts
    # Send: the statement is submitted, then sealed for the reviewer with a receipt
    after = await worker.high_water()
    await worker.press("send")
    await worker.wait("Thank you", after)
    receipt = await worker.wait("Receipt code:", after)
    interview_state, statement_state, code = statement_of(world, worker.user_id)
    assert interview_state == "submitted" and statement_state == "sealed"
    assert code is not None and code in receipt["text"]
    sends = await world.client.requests("sendMessage")
    assert all(r["params"].get("protect_content") is True for r in sends)
