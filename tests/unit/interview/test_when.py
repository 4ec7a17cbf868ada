"""The "when" of a chronology event, in the participant's words (never "date not given" when
they did say when)."""

from __future__ import annotations

import pytest

from interview.when import split_event


@pytest.mark.parametrize(
    ("text", "when", "what"),
    [
        ("12 March 2024 - home visit", "12 March 2024", "home visit"),
        ("Spring 2023 - the visits stopped", "Spring 2023", "the visits stopped"),
        ("Christmas: he was sent home", "Christmas", "he was sent home"),
        (
            "Just before Christmas the health visitor stopped coming",
            "Just before Christmas",
            "Just before Christmas the health visitor stopped coming",
        ),
        (
            "In the summer holidays we moved",
            "In the summer holidays",
            "In the summer holidays we moved",
        ),
        ("the week after her birthday she went into care", "the week after her birthday", None),
        ("She may be sad", "", "She may be sad"),
        ("I may have seen her: it was fine", "", "I may have seen her: it was fine"),
    ],
)
def test_when_is_found_in_words_as_well_as_digits(text: str, when: str, what: str | None) -> None:
    got_when, got_what = split_event(text)

    assert got_when == when
    assert got_what == (what if what is not None else text)
