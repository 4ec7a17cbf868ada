"""Find and trim Whisper's repetition loops ("and then we went and then we went and then ...").

When decoding goes wrong, Whisper can repeat a phrase until the window ends, within a segment or
over several. A phrase of two or more words said three times running is treated as a loop and
cut back to its first occurrence. A single word needs five repeats: "no, no, no" is speech.
The participant sees the result and can correct it, and the transcript is flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from transcription.transcript import Segment, with_text

MIN_REPEATS = 3
MIN_REPEATS_SINGLE_WORD = 5
MAX_PHRASE_WORDS = 24

_NON_WORD = re.compile(r"[^\w']+")


@dataclass(frozen=True)
class _Token:
    segment: int
    index: int
    norm: str


def normalise(word: str) -> str:
    """Lower-case without punctuation: how two words are compared."""
    return _NON_WORD.sub("", word.lower()).strip("'")


def find_loops(words: list[str]) -> list[bool]:
    """For each word, whether it belongs to a repeat after a loop's first occurrence."""
    removed = [False] * len(words)
    i = 0
    while i < len(words):
        best_n, best_k = 0, 0
        for n in range(1, MAX_PHRASE_WORDS + 1):
            need = MIN_REPEATS_SINGLE_WORD if n == 1 else MIN_REPEATS
            if i + need * n > len(words):
                break
            k = _repeats(words, i, n)
            if k >= need and k * n > best_k * best_n:
                best_n, best_k = n, k
        if best_k:
            for j in range(i + best_n, i + best_k * best_n):
                removed[j] = True
            i += best_k * best_n
        else:
            i += 1
    return removed


def trim_loops(segments: tuple[Segment, ...]) -> tuple[tuple[Segment, ...], bool]:
    """Trim loops within and across segments; returns the kept segments and whether any were cut.

    Segments left with no words are dropped.
    """
    units = [_units(s) for s in segments]
    tokens = [
        _Token(si, ui, norm)
        for si, seg_units in enumerate(units)
        for ui, unit in enumerate(seg_units)
        if (norm := normalise(unit))
    ]
    removed_flags = find_loops([t.norm for t in tokens])
    if not any(removed_flags):
        return segments, False
    removed = {(t.segment, t.index) for t, r in zip(tokens, removed_flags, strict=True) if r}
    kept: list[Segment] = []
    for si, segment in enumerate(segments):
        keep = [ui for ui in range(len(units[si])) if (si, ui) not in removed]
        if len(keep) == len(units[si]):
            kept.append(segment)
            continue
        if not any(normalise(units[si][ui]) for ui in keep):
            continue
        if segment.words is not None:
            words = tuple(segment.words[ui] for ui in keep)
            kept.append(with_text(segment, "".join(w.text for w in words), words))
        else:
            kept.append(with_text(segment, " ".join(units[si][ui] for ui in keep), None))
    return tuple(kept), True


def _units(segment: Segment) -> list[str]:
    if segment.words is not None:
        return [w.text for w in segment.words]
    return segment.text.split()


def _repeats(words: list[str], start: int, n: int) -> int:
    phrase = words[start : start + n]
    k = 1
    while words[start + k * n : start + (k + 1) * n] == phrase:
        k += 1
    return k
