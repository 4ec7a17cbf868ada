"""Whisper's repetition loops are trimmed, within and across segments; real repeats stay."""

from __future__ import annotations

from transcription.loops import find_loops, trim_loops
from transcription.transcript import Segment, Word, make_segment


def seg(text: str, start: float = 0.0) -> Segment:
    return make_segment(start, start + 5.0, text, -0.2, 0.01, None)


def test_a_phrase_repeated_three_times_in_a_segment_is_cut_to_one() -> None:
    segments = (seg("and then we went and then we went and then we went to the school."),)
    trimmed, looped = trim_loops(segments)
    assert looped
    assert trimmed[0].text == "and then we went to the school."


def test_a_loop_across_segments_is_trimmed_and_empty_segments_dropped() -> None:
    # Given Whisper repeating the same sentence window after window
    segments = (
        seg("She said she was fine."),
        seg("Thank you for listening.", 5),
        seg("Thank you for listening.", 10),
        seg("Thank you for listening.", 15),
    )
    trimmed, looped = trim_loops(segments)
    assert looped
    assert [s.text for s in trimmed] == ["She said she was fine.", "Thank you for listening."]


def test_speech_that_repeats_a_word_a_few_times_is_kept() -> None:
    segments = (seg("No, no, no. I told them twice, I told them twice."),)
    trimmed, looped = trim_loops(segments)
    assert not looped
    assert trimmed == segments


def test_a_single_word_stuck_five_times_is_a_loop() -> None:
    assert find_loops(["the", "the", "the", "the", "the", "end"]) == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]


def test_longest_cover_wins_and_punctuation_or_case_do_not_hide_a_loop() -> None:
    segments = (seg("I don't know. I don't know, i DON'T KNOW! I don't know what happened."),)
    trimmed, _ = trim_loops(segments)
    assert trimmed[0].text == "I don't know. what happened."


def test_word_level_segments_keep_their_words_in_step() -> None:
    words = tuple(
        Word(float(i), float(i) + 0.5, f" {w}", 0.9)
        for i, w in enumerate(
            ["we", "went", "home", "we", "went", "home", "we", "went", "home", "today"]
        )
    )
    segment = make_segment(0.0, 10.0, "".join(w.text for w in words), -0.1, 0.0, words)
    trimmed, looped = trim_loops((segment,))
    assert looped
    assert trimmed[0].text == "we went home today"
    assert trimmed[0].words is not None
    assert [w.text.strip() for w in trimmed[0].words] == ["we", "went", "home", "today"]
