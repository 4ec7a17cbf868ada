"""Decode voice notes and common audio files in memory into 16 kHz mono float32 samples.

Plaintext audio never touches the disk: the bytes go to PyAV through a ``BytesIO``. The input
is untrusted (anyone with an invite can send a file), so size and duration are bounded before
and during decoding and every decoder error is mapped into the CaseVoice error tree.
"""

from __future__ import annotations

import gc
import io
import itertools
from collections.abc import Iterator

import av
import av.audio.fifo
import av.audio.resampler
import numpy as np
import numpy.typing as npt

from transcription.errors import (
    TELEGRAM_DOWNLOAD_LIMIT_BYTES,
    AudioTooLargeError,
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
)

SAMPLE_RATE = 16_000
DEFAULT_MAX_SECONDS = 15 * 60.0
# Resample in blocks of about 10 s of 48 kHz audio: fewer resampler calls, bounded memory.
_GROUP_SAMPLES = 480_000
# Only plain audio demuxers: playlist-style demuxers (hls, concat, ...) would let a hostile file
# make FFmpeg open other files or URLs. "mov" covers mp4/m4a/3gp, "matroska" covers webm.
_DEMUXERS = "ogg,mov,matroska,mp3,wav,flac,aac,amr,aiff,caf"
# Errors a hostile or broken container can make PyAV raise besides its own FFmpegError.
_DECODE_ERRORS = (av.FFmpegError, ValueError, EOFError, OSError, IndexError, RuntimeError)

Samples = npt.NDArray[np.float32]


def decode_audio(
    data: bytes,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_bytes: int = TELEGRAM_DOWNLOAD_LIMIT_BYTES,
) -> Samples:
    """Decode ``data`` (OGG/Opus, M4A/AAC, MP3, WAV, FLAC, ...) to 16 kHz mono float32.

    Raises EmptyAudioError, AudioTooLargeError, NotAudioError, CorruptAudioError or
    AudioTooLongError; never an av error.
    """
    if not data:
        raise EmptyAudioError("zero bytes")
    if len(data) > max_bytes:
        raise AudioTooLargeError(f"{len(data)} bytes, limit {max_bytes}")
    try:
        container = av.open(
            io.BytesIO(data),
            mode="r",
            metadata_errors="ignore",
            options={"format_whitelist": _DEMUXERS},
        )
    except EOFError as exc:
        # The start of a media file that ends before its streams could be read: cut off.
        raise CorruptAudioError("ends before any audio (truncated)") from exc
    except _DECODE_ERRORS as exc:
        raise NotAudioError(f"not a readable media container ({type(exc).__name__})") from exc
    try:
        if not container.streams.audio:
            raise NotAudioError("no audio stream")
        stream = container.streams.audio[0]
        claimed = _claimed_seconds(container, stream)
        if claimed is not None and claimed > max_seconds:
            raise AudioTooLongError(max_seconds, claimed)
        samples = _decode_stream(container, stream, max_seconds)
    finally:
        container.close()
        # PyAV resampler objects linger until a collection (SYSTRAN/faster-whisper#390).
        gc.collect()
    if samples.size == 0:
        raise EmptyAudioError("no audio samples decoded")
    return samples


def audio_seconds(samples: Samples) -> float:
    """Length of decoded samples in seconds."""
    return float(samples.shape[0]) / SAMPLE_RATE


def _claimed_seconds(
    container: av.container.InputContainer, stream: av.AudioStream
) -> float | None:
    """Duration the container header claims, without decoding (may be absent or wrong)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / av.time_base
    return None


def _decode_stream(
    container: av.container.InputContainer, stream: av.AudioStream, max_seconds: float
) -> Samples:
    resampler = av.audio.resampler.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[Samples] = []
    total = 0
    decoded_any = False
    try:
        for frame in _resampled(_grouped(container.decode(stream)), resampler):
            decoded_any = True
            chunk = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            total += chunk.shape[0]
            if total > limit:
                raise AudioTooLongError(max_seconds)
            chunks.append(chunk)
    except _DECODE_ERRORS as exc:
        if not decoded_any:
            raise CorruptAudioError(f"decoder failed ({type(exc).__name__})") from exc
        raise CorruptAudioError(
            f"decoder failed after {total / SAMPLE_RATE:.1f} s ({type(exc).__name__})"
        ) from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    samples = np.concatenate(chunks)
    if not np.isfinite(samples).all():
        raise CorruptAudioError("decoded samples are not finite")
    return samples


def _grouped(frames: Iterator[av.AudioFrame]) -> Iterator[av.AudioFrame]:
    fifo = av.audio.fifo.AudioFifo()
    for frame in frames:
        frame.pts = None  # broken timestamps in hostile files must not stop the fifo
        fifo.write(frame)
        if fifo.samples >= _GROUP_SAMPLES:
            block = fifo.read()
            if block is not None:
                yield block
    if fifo.samples > 0:
        block = fifo.read()
        if block is not None:
            yield block


def _resampled(
    frames: Iterator[av.AudioFrame], resampler: av.audio.resampler.AudioResampler
) -> Iterator[av.AudioFrame]:
    for frame in itertools.chain(frames, [None]):  # None flushes the resampler
        yield from resampler.resample(frame)
