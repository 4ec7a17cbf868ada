"""The speech engine behind a small Protocol, and its faster-whisper implementation.

Whisper fails in known ways and each has a guard here:
- hallucinated text over silence or noise: the bundled Silero VAD (vad_filter) drops non-speech
  first, no_speech_threshold drops what slips through, and no segment at all is SilenceError;
- one bad window poisoning the next: condition_on_previous_text=False;
- the temperature fallback multiplying a note's time and inventing a repeated tail: at most
  three temperatures, a compression-ratio threshold, loop trimming (loops.py), and a time budget
  checked between segments (the caller still runs the job in a process it can kill);
- confident-looking guesses: segments and words below a probability are marked, and shown
  to the participant in [brackets?].
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from transcription.audio import DEFAULT_MAX_SECONDS, SAMPLE_RATE, Samples, decode_audio
from transcription.errors import SilenceError, TranscriptionFailed, TranscriptionTimeout
from transcription.loops import trim_loops
from transcription.models import ModelInfo
from transcription.transcript import (
    FLAG_LOOP_TRIMMED,
    FLAG_LOW_CONFIDENCE,
    FLAG_TEMPERATURE_FALLBACK,
    Segment,
    Transcript,
    Word,
    join_text,
    make_segment,
)

logger = logging.getLogger(__name__)

SegmentCallback = Callable[[Segment], None]
# Below about -80 dBFS there is nothing to hear; skip loading the decoder at all.
_SILENT_PEAK = 1e-4


class Transcriber(Protocol):
    """Turns 16 kHz mono float32 samples into a Transcript."""

    def transcribe(
        self,
        audio: Samples,
        *,
        language: str | None = None,
        on_segment: SegmentCallback | None = None,
    ) -> Transcript: ...


@dataclass(frozen=True)
class TimeBudget:
    """How long one note may take: ``base + per_audio_second × duration`` seconds.

    Normal base int8 runs at ≈0.16 × real time on one core; 1.0 × only trips on runaway decoding.
    """

    base: float = 20.0
    per_audio_second: float = 1.0

    def seconds_for(self, duration: float) -> float:
        return self.base + self.per_audio_second * duration


class WhisperTranscriber:
    """faster-whisper (CTranslate2) on a verified local model. One instance per process.

    ``transcribe`` blocks for seconds to minutes: call it off the event loop.
    """

    def __init__(
        self,
        model: ModelInfo,
        *,
        cpu_threads: int = 1,
        beam_size: int = 5,
        compute_type: str = "int8",
        device: str = "auto",
        temperature: tuple[float, ...] = (0.0, 0.2, 0.4),
        word_timestamps: bool = True,
        budget: TimeBudget | None = None,
    ) -> None:
        # Belt and braces: the model is a local folder, so nothing should reach a model hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import ctranslate2
        from faster_whisper import WhisperModel

        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        self.model = model
        self.model_id = f"{model.id}-{compute_type}"
        self.beam_size = beam_size
        self.temperature = temperature
        self.word_timestamps = word_timestamps
        self.budget = budget or TimeBudget()
        try:
            self._whisper = WhisperModel(
                str(model.path),
                device=device,
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                num_workers=1,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise TranscriptionFailed(
                f"cannot load model {model.id}: {type(exc).__name__}"
            ) from exc

    def transcribe(
        self,
        audio: Samples,
        *,
        language: str | None = None,
        on_segment: SegmentCallback | None = None,
    ) -> Transcript:
        """Transcribe, calling ``on_segment`` as each segment is decoded (progressive display).

        The segments passed to ``on_segment`` are provisional (loops across segments are only
        trimmed in the returned Transcript, which is authoritative).
        """
        duration = float(audio.shape[0]) / SAMPLE_RATE
        deadline = time.monotonic() + self.budget.seconds_for(duration)
        if audio.size == 0 or float(np.max(np.abs(audio))) < _SILENT_PEAK:
            raise SilenceError("no signal")
        if not self.model.multilingual:
            language = "en"
        try:
            raw, info = self._whisper.transcribe(
                audio,
                language=language,
                beam_size=self.beam_size,
                temperature=list(self.temperature),
                compression_ratio_threshold=2.4,
                log_prob_threshold=-1.0,
                no_speech_threshold=0.6,
                condition_on_previous_text=False,
                word_timestamps=self.word_timestamps,
                vad_filter=True,
                vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 300},
            )
            segments, flags = self._consume(raw, deadline, on_segment)
        except (RuntimeError, ValueError) as exc:
            raise TranscriptionFailed(f"whisper failed: {type(exc).__name__}") from exc
        if not join_text(segments):
            raise SilenceError("no speech found")
        return self._transcript(segments, flags, info.language, info.language_probability, duration)

    def _consume(
        self, raw: Iterable[Any], deadline: float, on_segment: SegmentCallback | None
    ) -> tuple[tuple[Segment, ...], set[str]]:
        segments: list[Segment] = []
        flags: set[str] = set()
        for item in raw:  # lazy: each step decodes the next window
            segment = _convert(item)
            if item.temperature:
                flags.add(FLAG_TEMPERATURE_FALLBACK)
            if segment.text:
                trimmed, looped = trim_loops((segment,))
                if looped:
                    flags.add(FLAG_LOOP_TRIMMED)
                segments.extend(trimmed)
                if on_segment is not None:
                    for shown in trimmed:
                        on_segment(shown)
            if time.monotonic() > deadline:
                logger.warning("transcription stopped at its time budget (%.0f s audio)", item.end)
                raise TranscriptionTimeout(f"time budget exceeded after {item.end:.0f} s of audio")
        return tuple(segments), flags

    def _transcript(
        self,
        segments: tuple[Segment, ...],
        flags: set[str],
        language: str,
        language_probability: float,
        duration: float,
    ) -> Transcript:
        trimmed, looped = trim_loops(segments)
        if looped:
            flags.add(FLAG_LOOP_TRIMMED)
        if any(s.low_confidence for s in trimmed):
            flags.add(FLAG_LOW_CONFIDENCE)
        return Transcript(
            text=join_text(trimmed),
            language=language,
            language_probability=float(language_probability),
            segments=trimmed,
            model_id=self.model_id,
            model_sha256=self.model.sha256,
            duration=duration,
            flags=tuple(sorted(flags)),
        )


def transcribe_bytes(
    transcriber: Transcriber,
    data: bytes,
    *,
    language: str | None = None,
    on_segment: SegmentCallback | None = None,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> Transcript:
    """Decode a voice note in memory and transcribe it."""
    audio = decode_audio(data, max_seconds=max_seconds)
    return transcriber.transcribe(audio, language=language, on_segment=on_segment)


def _convert(item: Any) -> Segment:
    words = None
    if item.words is not None:
        words = tuple(
            Word(float(w.start), float(w.end), str(w.word), float(w.probability))
            for w in item.words
        )
    return make_segment(
        float(item.start),
        float(item.end),
        str(item.text),
        float(item.avg_logprob),
        float(item.no_speech_prob),
        words,
    )
