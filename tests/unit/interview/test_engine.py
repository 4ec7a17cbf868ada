from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from interview.engine import Cursor, InterviewEngine, Progress
from interview.errors import AtFirstPromptError, NavigationError, SkipNotAllowedError
from interview.script import InterviewScript, builtin_script


def ids(engine: InterviewEngine, progress: Progress) -> list[str]:
    return [p.id for p in engine.visible(progress)]


def answered(*prompt_ids: str, **choices: list[str]) -> Progress:
    return Progress(answered=frozenset(prompt_ids) | frozenset(choices), choices=choices)


def is_finished(engine: InterviewEngine, progress: Progress) -> bool:
    return not engine.open_prompts(progress)


def hidden_answers(engine: InterviewEngine, progress: Progress) -> frozenset[str]:
    """Answered or skipped prompts that the current choices hide: left out of the statement."""
    shown = set(ids(engine, progress))
    return frozenset((progress.answered | progress.skipped) - shown)


def to_state(cursor: Cursor) -> dict[str, Any]:
    return cursor.model_dump(mode="json")


def from_state(data: Mapping[str, Any]) -> Cursor:
    return Cursor.model_validate(dict(data))


def test_show_if_branches_on_picked_values(small: InterviewScript) -> None:
    engine = InterviewEngine(small)

    assert ids(engine, Progress()) == ["role", "services", "hard_a", "contacts", "last"]
    assert ids(engine, answered(services=["school"]))[:3] == ["role", "services", "school_more"]
    assert ids(engine, answered(services=["police", "school"]))[2:4] == [
        "school_more",
        "police_more",
    ]
    # a skipped choice shows none of its follow-ups
    skipped = Progress(skipped=frozenset({"services"}), choices={"services": ("school",)})
    assert "school_more" not in ids(engine, skipped.with_skipped("services"))


def test_walk_forward_with_numbers_and_branch(small: InterviewScript) -> None:
    engine = InterviewEngine(small)

    step = engine.resume(Progress())
    assert (step.prompt and step.prompt.id, step.number, step.total) == ("role", 1, 5)

    step = engine.next(answered("role"), step.cursor)
    assert step.prompt is not None and step.prompt.id == "services"

    progress = answered("role", services=["police"])
    step = engine.next(progress, step.cursor)
    assert step.prompt is not None and step.prompt.id == "police_more"
    assert (step.number, step.total) == (3, 6)


def test_content_note_comes_once_with_the_first_prompt_of_its_section(
    small: InterviewScript,
) -> None:
    engine = InterviewEngine(small)
    progress = answered("role", services=["other"])
    at_services = Cursor(prompt_id="services", visited=("role", "services"))

    into = engine.next(progress, at_services)
    assert into.prompt is not None and into.prompt.id == "hard_a"
    assert into.content_note == "This part may be hard."

    # back out and forward again: no second note
    back = engine.back(progress, into.cursor)
    again = engine.next(progress, back.cursor)
    assert again.prompt is not None and again.prompt.id == "hard_a"
    assert again.content_note is None

    # a restart while the note was showing shows it again
    assert engine.resume(progress, into.cursor).content_note == "This part may be hard."


def test_back_goes_to_previous_visible_prompt_and_refuses_at_start(
    small: InterviewScript,
) -> None:
    engine = InterviewEngine(small)
    progress = answered("role", "school_more", services=["school"])

    step = engine.back(progress, Cursor(prompt_id="hard_a", visited=("role",)))
    assert step.prompt is not None and step.prompt.id == "school_more"

    with pytest.raises(AtFirstPromptError):
        engine.back(progress, Cursor(prompt_id="role"))

    from_readback = engine.back(answered(*ids(engine, progress)), Cursor(prompt_id=None))
    assert from_readback.prompt is not None and from_readback.prompt.id == "last"


def test_after_back_and_reanswer_next_returns_to_where_they_left_off(
    small: InterviewScript,
) -> None:
    engine = InterviewEngine(small)
    progress = answered("role", "hard_a", services=["other"])

    # at contacts, went back twice to services, re-answered services
    step = engine.next(progress, Cursor(prompt_id="services"))

    assert step.prompt is not None and step.prompt.id == "contacts"


def test_skip_moves_on_but_required_prompts_can_only_be_paused(
    small: InterviewScript,
) -> None:
    engine = InterviewEngine(small)

    with pytest.raises(SkipNotAllowedError) as refused:
        engine.skip(Progress(), Cursor(prompt_id="role"))
    assert refused.value.prompt_id == "role"
    assert "pause" in refused.value.user_message

    step = engine.skip(answered("role"), Cursor(prompt_id="services"))
    assert step.prompt is not None and step.prompt.id == "hard_a"


def test_skip_section_skips_the_open_prompts_of_a_content_noted_section(
    small: InterviewScript,
) -> None:
    engine = InterviewEngine(small)
    progress = answered("role", services=["other"])

    result = engine.skip_section(progress, Cursor(prompt_id="hard_a"))

    assert result.skipped == ("hard_a", "contacts")
    assert result.step.prompt is not None and result.step.prompt.id == "last"

    with pytest.raises(SkipNotAllowedError):
        engine.skip_section(Progress(), Cursor(prompt_id="role"))


def test_finished_and_readback(small: InterviewScript) -> None:
    engine = InterviewEngine(small)
    everything = answered("role", "hard_a", "contacts", "last", services=["other"])

    step = engine.next(everything, Cursor(prompt_id="last"))

    assert is_finished(engine, everything)
    assert step.finished and step.cursor.prompt_id is None
    assert not is_finished(engine, answered("role"))


def test_edit_jump_from_readback_returns_to_readback(small: InterviewScript) -> None:
    engine = InterviewEngine(small)
    everything = answered("role", "hard_a", "contacts", "last", services=["other"])
    readback = Cursor(prompt_id=None, visited=tuple(ids(engine, everything)))

    edit = engine.jump_to_number(everything, readback, 4)
    assert edit.prompt is not None and edit.prompt.id == "contacts"
    assert edit.content_note is None

    done = engine.next(everything, edit.cursor)
    assert done.finished

    with pytest.raises(NavigationError):
        engine.jump_to(everything, readback, "school_more")  # hidden
    with pytest.raises(NavigationError):
        engine.jump_to_number(everything, readback, 99)


def test_changed_choice_reveals_new_prompts_then_hides_their_answers(
    small: InterviewScript,
) -> None:
    engine = InterviewEngine(small)
    base = ("role", "hard_a", "contacts", "last")
    readback = Cursor(prompt_id=None)

    # Given everything answered, the participant edits "services" to add school
    edit = engine.jump_to(answered(*base, services=["other"]), readback, "services")
    with_school = answered(*base, services=["other", "school"])

    # Then the new follow-up is asked before going back to the read-back
    step = engine.next(with_school, edit.cursor)
    assert step.prompt is not None and step.prompt.id == "school_more"

    # And when school is later removed, the follow-up answer drops out
    later = answered(*base, "school_more", services=["other"])
    assert hidden_answers(engine, later) == frozenset({"school_more"})
    assert is_finished(engine, later)


def test_cursor_is_plain_json_without_answers(small: InterviewScript) -> None:
    engine = InterviewEngine(small)
    step = engine.next(answered("role"), Cursor(prompt_id="role", visited=("role",)))

    state = json.loads(json.dumps(to_state(step.cursor)))

    assert state == {"prompt_id": "services", "visited": ["role", "services"]}
    assert from_state(state) == step.cursor


def test_resume_at_a_prompt_hidden_since_moves_on(small: InterviewScript) -> None:
    engine = InterviewEngine(small)

    step = engine.resume(answered("role", services=["other"]), Cursor(prompt_id="school_more"))

    assert step.prompt is not None and step.prompt.id == "hard_a"


@pytest.mark.parametrize("name", ["family", "professional"])
def test_shipped_scripts_can_be_walked_to_the_end(name: str) -> None:
    engine = InterviewEngine(builtin_script(name))
    progress = Progress()
    step = engine.resume(progress)
    seen = 0
    while not step.finished:
        assert step.prompt is not None
        pid = step.prompt.id
        picked = {pid: (step.prompt.choices[0].value,)} if step.prompt.choices else {}
        progress = Progress(
            answered=progress.answered | {pid}, choices={**progress.choices, **picked}
        )
        step = engine.next(progress, step.cursor)
        seen += 1
    assert seen == len(engine.visible(progress))
