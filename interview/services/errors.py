"""Errors of the interview services (subclasses of the one tree in storage.errors)."""

from __future__ import annotations

from storage.errors import CaseVoiceError


class CaseError(CaseVoiceError):
    """A case operation was refused (unknown case, bad reference, already exists)."""

    user_message = "That case could not be used."
