"""Buttons on the wire: typed presses packed into callback data and back, nothing else."""

from __future__ import annotations

import pytest

from handlers.callbacks import BY_ACTION, pack, unpack
from interview.services.replies import Action, Press

EVERY_PRESS = [
    Press(Action.CONTINUE),
    Press(Action.CONSENT_YES, step="take_part"),
    Press(Action.CONSENT_MORE, step="anonymised_publication"),
    Press(Action.CHOOSE, prompt="services_involved", value="school"),
    Press(Action.SKIP_SECTION, prompt="not_helped"),
    Press(Action.EDIT_NUMBER, number=12),
    Press(Action.DELETE_YES),
    Press(Action.HEARD_FIX, answer="0123456789abcdef0123456789abcdef"),
    Press(Action.RESUME),
]


def test_every_action_has_its_callback_data_class() -> None:
    assert set(BY_ACTION) == set(Action)


@pytest.mark.parametrize("press", EVERY_PRESS, ids=lambda p: p.action.value)
def test_a_press_survives_the_round_trip(press: Press) -> None:
    assert unpack(pack(press)) == press


def test_the_wire_format_is_the_action_code_then_its_arguments() -> None:
    # Buttons already in people's chats keep working after a release.
    assert pack(Press(Action.SEND)) == "send"
    assert pack(Press(Action.EDIT_NUMBER, number=1)) == "ed:1"
    assert pack(Press(Action.BACK, prompt="about_child")) == "back:about_child"
    assert pack(Press(Action.CHOOSE, prompt="listened_to", value="sometimes")) == (
        "ch:listened_to:sometimes"
    )


def test_the_longest_button_a_valid_script_allows_fits_in_64_bytes() -> None:
    longest = Press(Action.CHOOSE, prompt="p" * 40, value="v" * 20)  # script maxima

    assert len(pack(longest).encode()) == 64
    with pytest.raises(ValueError, match="too long"):
        pack(Press(Action.CHOOSE, prompt="p" * 41, value="v" * 20))


@pytest.mark.parametrize(
    "data",
    ["", "zzz", "send:extra", "ed:two", "ed:-1", "cy:everything", "ch:only_prompt", "ch:a:b:c"],
)
def test_data_that_is_no_button_of_ours_unpacks_to_nothing(data: str) -> None:
    assert unpack(data) is None
