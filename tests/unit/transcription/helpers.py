"""Test helpers: word error rate, and audio made in memory (the speech clips: tests.fixtures)."""

from __future__ import annotations

import io
import math
import wave

import av
import jiwer
import numpy as np

_NORMALISE = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.SubstituteRegexes({r"[-\u2010-\u2014]": " "}),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)


def wer(ref: str, hyp: str) -> float:
    """Word error rate, lower-case, punctuation stripped (tests/fixtures/audio/README.md)."""
    return float(
        jiwer.wer(ref, hyp, reference_transform=_NORMALISE, hypothesis_transform=_NORMALISE)
    )


def wav_bytes(
    seconds: float, *, amplitude: float = 0.0, rate: int = 16_000, seed: int = 7
) -> bytes:
    """A mono 16-bit WAV in memory: silence, or white noise of the given peak amplitude."""
    n = int(seconds * rate)
    noise = np.random.default_rng(seed).uniform(-amplitude, amplitude, n)
    pcm = (noise * 32767).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buf.getvalue()


def tone_bytes(container: str, codec: str, *, rate: int = 44_100, seconds: float = 1.5) -> bytes:
    """A stereo 440 Hz tone encoded in memory with PyAV (mp3, m4a, flac, wav, webm, ...)."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as oc:
        stream = oc.add_stream(codec, rate=rate, layout="stereo")
        ctx = stream.codec_context
        n = int(rate * seconds)
        t = np.arange(n) / rate
        mono = (0.3 * np.sin(2 * math.pi * 440.0 * t)).astype(np.float32)
        step = ctx.frame_size or 1024
        fmt = ctx.format.name
        for i in range(0, n, step):
            chunk = mono[i : i + step]
            planar = np.stack([chunk, chunk]) if fmt.endswith("p") else np.repeat(chunk, 2)[None]
            if fmt.startswith("s16"):
                planar = (planar * 32767).astype(np.int16)
            elif fmt.startswith("s32"):
                planar = (planar * (2**31 - 1)).astype(np.int32)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar), format=fmt, layout="stereo"
            )
            frame.rate = rate
            for packet in stream.encode(frame):
                oc.mux(packet)
        for packet in stream.encode(None):
            oc.mux(packet)
    return out.getvalue()
