"""Decoding voice notes in memory: real clips, common formats, and hostile input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures import clip
from tests.unit.transcription.helpers import tone_bytes, wav_bytes
from transcription import audio
from transcription.audio import SAMPLE_RATE, audio_seconds, decode_audio
from transcription.errors import (
    AudioTooLargeError,
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    TranscriptionError,
)

# Lengths from tests/fixtures/audio/README.md, to the 10 ms (checked with ffprobe-equivalent av).
CLIP_SECONDS = {
    "real_goforward": 2.79,
    "real_libri_0870": 7.10,
    "real_libri_0880": 2.99,
    "real_libri_0890": 5.30,
    "tts_s1": 5.13,
    "tts_m1": 29.98,
    "tts_l1": 119.09,
}


@pytest.mark.parametrize(("name", "seconds"), sorted(CLIP_SECONDS.items()))
def test_voice_note_decodes_to_16k_mono_float32_of_the_right_length(
    name: str, seconds: float
) -> None:
    # Given a Telegram-style OGG/Opus voice note
    data = clip(name)
    # When it is decoded in memory
    samples = decode_audio(data)
    # Then it is 16 kHz mono float32 of the clip's length, with a real signal in range
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert audio_seconds(samples) == pytest.approx(seconds, abs=0.02)
    peak = float(np.max(np.abs(samples)))
    assert 0.05 < peak <= 1.0


@pytest.mark.parametrize(
    ("container", "codec", "rate"),
    [
        ("mp3", "libmp3lame", 44_100),
        ("ipod", "aac", 44_100),  # .m4a
        ("adts", "aac", 44_100),  # raw .aac
        ("flac", "flac", 44_100),
        ("wav", "pcm_s16le", 22_050),
        ("webm", "libopus", 48_000),
    ],
)
def test_common_audio_formats_decode_and_resample_correctly(
    container: str, codec: str, rate: int
) -> None:
    # Given a 1.5 s stereo 440 Hz tone in a common format
    data = tone_bytes(container, codec, rate=rate)
    # When decoded
    samples = decode_audio(data)
    # Then it is mono at 16 kHz, 1.5 s long (codec padding aside), and still 440 Hz
    assert audio_seconds(samples) == pytest.approx(1.5, abs=0.06)
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = float(np.argmax(spectrum)) * SAMPLE_RATE / samples.shape[0]
    assert peak_hz == pytest.approx(440.0, abs=5.0)


def test_zero_bytes_are_empty_audio() -> None:
    with pytest.raises(EmptyAudioError):
        decode_audio(b"")


def test_random_bytes_are_not_audio() -> None:
    noise = np.random.default_rng(1234).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    with pytest.raises(NotAudioError):
        decode_audio(noise)


def test_a_text_file_is_not_audio() -> None:
    text = ("I am not a voice note, just some words in a file.\n" * 200).encode()
    with pytest.raises(NotAudioError):
        decode_audio(text)


def test_a_playlist_cannot_make_ffmpeg_open_other_files() -> None:
    # Given an HLS playlist pointing at a local file (a classic FFmpeg file-read trick)
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    # Then the demuxer is refused
    with pytest.raises(NotAudioError):
        decode_audio(playlist)


@pytest.mark.parametrize("keep", [200, 2_000, 4_000])
def test_a_truncated_voice_note_is_corrupt(keep: int) -> None:
    # Given a voice note cut off before its audio
    data = clip("tts_m1")[:keep]
    with pytest.raises(CorruptAudioError):
        decode_audio(data)


def test_a_voice_note_cut_in_half_keeps_what_arrived() -> None:
    # A note cut mid-way is still the participant's words: decode what is there.
    data = clip("tts_m1")
    samples = decode_audio(data[: len(data) // 2])
    assert 10.0 < audio_seconds(samples) < 20.0


def test_too_long_is_refused_from_the_header_without_decoding() -> None:
    data = wav_bytes(5.0)
    with pytest.raises(AudioTooLongError) as caught:
        decode_audio(data, max_seconds=2.0)
    assert caught.value.seconds == pytest.approx(5.0, abs=0.01)
    assert "minute" in caught.value.user_message


def test_too_long_is_refused_during_decode_when_the_header_says_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a container whose header gives no duration (as in many streamed files)
    monkeypatch.setattr(audio, "_claimed_seconds", lambda _c, _s: None)
    with pytest.raises(AudioTooLongError):
        decode_audio(clip("tts_m1"), max_seconds=10.0)


def test_over_telegrams_download_limit_is_too_large() -> None:
    with pytest.raises(AudioTooLargeError):
        decode_audio(b"\0" * (20 * 1024 * 1024 + 1))


def test_every_audio_error_has_a_kind_message_without_details() -> None:
    for error in (
        NotAudioError("x"),
        CorruptAudioError("x"),
        EmptyAudioError("x"),
        AudioTooLargeError("x"),
        AudioTooLongError(600.0, 900.0),
    ):
        assert isinstance(error, TranscriptionError)
        assert error.user_message
        assert "x" not in error.user_message.split()
