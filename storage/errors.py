"""The one exception tree of CaseVoice (its root and the storage/crypto branch).

Every error carries ``user_message``: a plain, kind sentence that is safe to show a participant
or reviewer. ``str(exc)`` carries ids and reasons only, never content.
"""

from __future__ import annotations


class CaseVoiceError(Exception):
    """Root of every error CaseVoice raises on purpose."""

    user_message: str = "Something went wrong on our side. Nothing you sent has been lost."


class ConfigurationError(CaseVoiceError):
    """A setting is missing or wrong; the message names the setting in one line."""

    user_message = "CaseVoice is not configured correctly."


class AuditHeadError(CaseVoiceError):
    """The audit log's signed head is missing, unreadable, or not signed by the bot's key."""

    user_message = "The audit log failed its integrity check."


class CryptoError(CaseVoiceError):
    """Encryption at rest failed. Always fail closed."""


class DecryptionError(CryptoError):
    """A ciphertext was altered, moved to another record, or sealed under another key."""


class KeyShreddedError(CryptoError):
    """The data key was destroyed on purpose: the data it protected is gone for good."""

    user_message = "That information has been permanently deleted."


class KeyUnavailableError(CryptoError):
    """A key-encryption key or the HMAC key cannot be loaded; nothing is stored without it."""

    user_message = "CaseVoice cannot reach its keys right now, so it is not storing anything."
