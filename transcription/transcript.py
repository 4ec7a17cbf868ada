"""What a transcription produces: immutable results, and how a participant sees them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

# A segment whose mean token probability is below this is shown as uncertain. exp(-0.7) ≈ 0.50:
# on our clips correct segments sit at 0.6-0.95 and misheard ones below 0.5.
SEGMENT_LOW_CONFIDENCE = 0.5
# A word Whisper gives less than this probability is shown as uncertain.
WORD_LOW_PROBABILITY = 0.4

FLAG_LOOP_TRIMMED = "loop_trimmed"
FLAG_LOW_CONFIDENCE = "low_confidence"
FLAG_TEMPERATURE_FALLBACK = "temperature_fallback"

LOW_CONFIDENCE_NOTE = "Words in [brackets?] are ones I wasn't sure I heard right."
LOOP_TRIMMED_NOTE = "I left out a phrase that seemed to repeat over and over."


@dataclass(frozen=True)
class Word:
    """One word with Whisper's probability for it (only with word timestamps)."""

    start: float
    end: float
    text: str
    probability: float

    @property
    def low_confidence(self) -> bool:
        return self.probability < WORD_LOW_PROBABILITY


@dataclass(frozen=True)
class Segment:
    """A stretch of speech Whisper decoded in one go."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    confidence: float
    low_confidence: bool
    words: tuple[Word, ...] | None = None


@dataclass(frozen=True)
class Transcript:
    """The text of one voice note, with what produced it (provenance for the reviewer)."""

    text: str
    language: str
    language_probability: float
    segments: tuple[Segment, ...]
    model_id: str
    model_sha256: str
    duration: float
    flags: tuple[str, ...] = ()


def make_segment(
    start: float,
    end: float,
    text: str,
    avg_logprob: float,
    no_speech_prob: float,
    words: tuple[Word, ...] | None,
) -> Segment:
    """Build a Segment, deriving its confidence (0..1) and low-confidence mark."""
    confidence = min(1.0, max(0.0, math.exp(avg_logprob)))
    low = confidence < SEGMENT_LOW_CONFIDENCE or (
        words is not None and any(w.low_confidence for w in words)
    )
    return Segment(start, end, text.strip(), avg_logprob, no_speech_prob, confidence, low, words)


def with_text(segment: Segment, text: str, words: tuple[Word, ...] | None) -> Segment:
    """The same segment with (trimmed) text and words; confidence marks are recomputed."""
    low = segment.confidence < SEGMENT_LOW_CONFIDENCE or (
        words is not None and any(w.low_confidence for w in words)
    )
    return replace(segment, text=text.strip(), words=words, low_confidence=low)


def join_text(segments: tuple[Segment, ...]) -> str:
    return " ".join(s.text for s in segments if s.text).strip()


def marked_text(transcript: Transcript) -> str:
    """The text with uncertain words in ``[brackets?]``.

    With word probabilities, runs of uncertain words share one bracket ("[went round?]");
    without them, a whole uncertain segment is bracketed.
    """
    return " ".join(_render_segment(s) for s in transcript.segments if s.text).strip()


def transcript_from_json(body: str | bytes) -> Transcript:
    """A stored transcript (``json.dumps(asdict(transcript))``) back as a ``Transcript``."""
    data = json.loads(body)
    segments = []
    for raw in data["segments"]:
        words = raw.get("words")
        raw["words"] = tuple(Word(**w) for w in words) if words is not None else None
        segments.append(Segment(**raw))
    data["segments"] = tuple(segments)
    data["flags"] = tuple(data.get("flags", ()))
    return Transcript(**data)


def render_for_participant(transcript: Transcript) -> str:
    """Plain text for a Telegram message: uncertain words in ``[brackets?]``, then short notes."""
    body = marked_text(transcript)
    notes = []
    if any(s.low_confidence for s in transcript.segments):
        notes.append(LOW_CONFIDENCE_NOTE)
    if FLAG_LOOP_TRIMMED in transcript.flags:
        notes.append(LOOP_TRIMMED_NOTE)
    return "\n\n".join([body, *notes]) if notes else body


def _render_segment(segment: Segment) -> str:
    if not segment.low_confidence:
        return segment.text
    if not segment.words or segment.confidence < SEGMENT_LOW_CONFIDENCE:
        return _bracket(segment.text)
    out: list[str] = []
    run: list[str] = []
    for word in segment.words:
        text = word.text.strip()
        if not text:
            continue
        if word.low_confidence:
            run.append(text)
            continue
        if run:
            out.append(_bracket(" ".join(run)))
            run = []
        out.append(text)
    if run:
        out.append(_bracket(" ".join(run)))
    return " ".join(out)


def _bracket(text: str) -> str:
    """``went round.`` -> ``[went round?].``: trailing punctuation stays outside the bracket."""
    core = text.rstrip(".,;:!?")
    tail = text[len(core) :]
    return f"[{core}?]{tail}" if core else text
