"""The refusal before downloading a voice note names the limit the way a person would."""

from __future__ import annotations

import pytest

from interview.services import phrases as P
from interview.services.voice import spoken_duration, too_big


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [
        (600, "10 minutes"),
        (60, "1 minute"),
        (90, "90 seconds"),
        (5, "5 seconds"),
        (1, "1 second"),
        (150, "about 2 minutes"),
        (7200, "120 minutes"),
    ],
)
def test_given_a_limit_then_it_is_spoken_naturally(seconds: float, spoken: str) -> None:
    assert spoken_duration(seconds) == spoken


def test_given_a_note_within_limits_then_nothing_is_refused() -> None:
    assert too_big(1_000_000, 30.0, 600) is None
    assert too_big(None, None, 600) is None


def test_given_a_note_over_20_mb_then_it_is_refused_before_download() -> None:
    assert too_big(20 * 1024 * 1024 + 1, 30.0, 600) == P.VOICE_TOO_LARGE


def test_given_a_note_longer_than_the_limit_then_the_message_names_the_limit() -> None:
    message = too_big(1000, 601.0, 600)
    assert message is not None and "(10 minutes)" in message
