"""How a transcript is shown to the participant: uncertain words in [brackets?]."""

from __future__ import annotations

import math

from transcription.transcript import (
    FLAG_LOOP_TRIMMED,
    LOOP_TRIMMED_NOTE,
    LOW_CONFIDENCE_NOTE,
    Segment,
    Transcript,
    Word,
    make_segment,
    render_for_participant,
)


def transcript(*segments: Segment, flags: tuple[str, ...] = ()) -> Transcript:
    return Transcript(
        text=" ".join(s.text for s in segments),
        language="en",
        language_probability=0.99,
        segments=segments,
        model_id="m",
        model_sha256="0" * 64,
        duration=3.0,
        flags=flags,
    )


def test_a_confident_transcript_is_shown_as_is() -> None:
    s = make_segment(0, 2, " We met in March.", math.log(0.9), 0.0, None)
    assert not s.low_confidence
    assert s.confidence == 0.9
    assert render_for_participant(transcript(s)) == "We met in March."


def test_uncertain_words_are_bracketed_together_and_explained() -> None:
    words = tuple(
        Word(float(i), float(i) + 1, t, p)
        for i, (t, p) in enumerate(
            [(" I", 0.9), (" went", 0.3), (" round.", 0.2), (" She", 0.95), (" cried.", 0.8)]
        )
    )
    s = make_segment(0, 5, "".join(w.text for w in words), math.log(0.8), 0.0, words)
    text = render_for_participant(transcript(s))
    assert text == f"I [went round?]. She cried.\n\n{LOW_CONFIDENCE_NOTE}"


def test_an_uncertain_segment_without_words_is_bracketed_whole() -> None:
    sure = make_segment(0, 2, "It was cold.", math.log(0.9), 0.0, None)
    unsure = make_segment(2, 4, "He had no coat.", math.log(0.3), 0.0, None)
    text = render_for_participant(transcript(sure, unsure, flags=(FLAG_LOOP_TRIMMED,)))
    assert text.splitlines()[0] == "It was cold. [He had no coat?]."
    assert text.endswith(LOOP_TRIMMED_NOTE)
