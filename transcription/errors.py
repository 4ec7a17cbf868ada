"""The transcription branch of the CaseVoice error tree.

Every ``user_message`` is written for a person who may be distressed: it says what happened in
plain words, that nothing they said is lost, and what they can do next. ``str(exc)`` carries
reasons and sizes only, never audio or transcript text.
"""

from __future__ import annotations

from storage.errors import CaseVoiceError

# Telegram's Bot API lets a bot download files up to 20 MB.
TELEGRAM_DOWNLOAD_LIMIT_BYTES = 20 * 1024 * 1024


class TranscriptionError(CaseVoiceError):
    """Turning a voice note into text failed; the encrypted original is kept."""

    user_message = (
        "I couldn't turn that voice note into text. Your recording is saved. "
        "You can type your answer instead, or try recording again."
    )


class AudioError(TranscriptionError):
    """The bytes could not be read as usable audio."""


class NotAudioError(AudioError):
    """The file is not audio at all (no audio stream, or not a media container)."""

    user_message = (
        "That doesn't look like a voice recording. You can send a voice note or type your answer."
    )


class CorruptAudioError(AudioError):
    """The file claims to be audio but is damaged or cut off."""

    user_message = (
        "That recording seems to be damaged, so I couldn't play it. "
        "Could you try recording it again? You can also type your answer."
    )


class EmptyAudioError(AudioError):
    """The file holds no audio samples."""

    user_message = (
        "That recording seems to be empty. Could you try again? You can also type your answer."
    )


class AudioTooLongError(AudioError):
    """The recording is longer than the configured maximum."""

    def __init__(self, max_seconds: float, seconds: float | None = None) -> None:
        self.max_seconds = max_seconds
        self.seconds = seconds
        minutes = max(1, round(max_seconds / 60))
        unit = "minute" if minutes == 1 else "minutes"
        self.user_message = (
            f"That recording is longer than I can handle (up to about {minutes} {unit}). "
            "Could you split it into shorter voice notes? Nothing you said has been lost."
        )
        found = "" if seconds is None else f", found {seconds:.1f} s"
        super().__init__(f"audio longer than {max_seconds:.0f} s{found}")


class AudioTooLargeError(AudioError):
    """The file is larger than a bot may download from Telegram (20 MB)."""

    user_message = (
        "That file is too large for me to receive. Could you send a shorter voice note, "
        "or split it into a few parts?"
    )


class SilenceError(TranscriptionError):
    """Decoding worked but no speech was found."""

    user_message = (
        "I couldn't hear any words in that recording. That's all right. "
        "You can try again, maybe a little closer to the phone, or type your answer."
    )


class TranscriptionTimeout(TranscriptionError):
    """The job ran past its time budget and was stopped."""

    user_message = (
        "Turning that recording into text is taking longer than it should. "
        "Your recording is saved. You can type your answer, or try a shorter voice note."
    )


class TranscriptionFailed(TranscriptionError):
    """The speech engine itself failed (model missing, runtime error)."""


class ModelError(TranscriptionFailed):
    """A Whisper model could not be found, assembled or verified."""

    user_message = "Voice notes can't be turned into text right now. You can type your answer."


class ModelChecksumError(ModelError):
    """An assembled model file does not match its pinned SHA-256; the bad file was removed."""
