"""The real Whisper engine on real clips: tiny.en always, the default model when slow is on."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.fixtures import clip, reference
from tests.unit.transcription.helpers import wav_bytes, wer
from transcription.audio import decode_audio
from transcription.engine import TimeBudget, WhisperTranscriber, transcribe_bytes
from transcription.errors import SilenceError, TranscriptionTimeout
from transcription.models import DEFAULT_MODEL, TINY_EN_MODEL_SHA256, resolve_model
from transcription.transcript import Segment


def test_tiny_en_transcribes_a_short_voice_note(tiny: WhisperTranscriber) -> None:
    # Given a real 2.8 s voice note
    shown: list[Segment] = []
    # When it is transcribed with progressive display
    result = transcribe_bytes(tiny, clip("real_goforward"), on_segment=shown.append)
    # Then the words are right, segments arrived as they were decoded, provenance is recorded
    assert wer(reference("real_goforward"), result.text) <= 0.25
    assert "go forward" in result.text.lower()
    assert shown and " ".join(s.text for s in shown) == result.text
    assert result.language == "en"
    assert result.model_id == "whisper-tiny.en-ct2-int8"
    assert result.model_sha256 == TINY_EN_MODEL_SHA256
    assert result.duration == pytest.approx(2.79, abs=0.02)
    assert all(0.0 <= s.confidence <= 1.0 for s in result.segments)
    assert all(s.words for s in result.segments)


def test_near_silence_is_a_silence_error(tiny: WhisperTranscriber) -> None:
    # Given four seconds of faint hiss (above digital zero, so the model path runs)
    data = wav_bytes(4.0, amplitude=0.002)
    # Then no words are invented
    with pytest.raises(SilenceError) as caught:
        transcribe_bytes(tiny, data)
    assert "couldn't hear any words" in caught.value.user_message


def test_digital_silence_is_refused_before_decoding(tiny: WhisperTranscriber) -> None:
    with pytest.raises(SilenceError):
        tiny.transcribe(decode_audio(wav_bytes(3.0)))


def test_the_cooperative_time_budget_stops_a_job(data_dir: Path) -> None:
    # Given a transcriber allowed no time at all
    engine = WhisperTranscriber(
        resolve_model("tiny.en", data_dir), beam_size=1, budget=TimeBudget(0.0, 0.0)
    )
    # Then it stops after the first segment instead of running on
    with pytest.raises(TranscriptionTimeout):
        transcribe_bytes(engine, clip("tts_m1"))


class _LoopingWhisper:
    """Stands in for faster-whisper's model: the second window is stuck in a loop."""

    def transcribe(self, audio: object, **options: object) -> tuple[object, object]:
        assert options["vad_filter"] is True
        assert options["condition_on_previous_text"] is False
        texts = [" We met at the school.", " It was fine." * 4]
        segments = (
            SimpleNamespace(
                start=5.0 * i,
                end=5.0 * i + 5,
                text=text,
                avg_logprob=-0.1,
                no_speech_prob=0.01,
                words=None,
                temperature=0.0 if i == 0 else 0.4,
            )
            for i, text in enumerate(texts)
        )
        return segments, SimpleNamespace(language="en", language_probability=0.97)


def test_a_looping_window_is_trimmed_and_flagged(
    tiny: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the model falls back to a higher temperature and repeats itself
    monkeypatch.setattr(tiny, "_whisper", _LoopingWhisper())
    shown: list[str] = []
    # When the note is transcribed
    result = tiny.transcribe(
        decode_audio(clip("tts_s1")), on_segment=lambda s: shown.append(s.text)
    )
    # Then the loop is cut to one sentence, already in what was shown, and the transcript says so
    assert result.text == "We met at the school. It was fine."
    assert shown == ["We met at the school.", "It was fine."]
    assert result.flags == ("loop_trimmed", "temperature_fallback")


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["real_goforward", "real_libri_0870", "real_libri_0880", "real_libri_0890"]
)
def test_default_model_is_faithful_on_real_speech(data_dir: Path, name: str) -> None:
    engine = _default_engine(data_dir)
    result = transcribe_bytes(engine, clip(name))
    assert wer(reference(name), result.text) <= 0.25


_ENGINES: dict[Path, WhisperTranscriber] = {}


def _default_engine(data_dir: Path) -> WhisperTranscriber:
    if data_dir not in _ENGINES:
        _ENGINES[data_dir] = WhisperTranscriber(resolve_model(DEFAULT_MODEL, data_dir))
    return _ENGINES[data_dir]
