"""Errors of the interview services (subclasses of the one tree in storage.errors)."""

from __future__ import annotations

from storage.errors import CaseVoiceError


class CaseError(CaseVoiceError):
    """A case operation was refused (unknown case, bad reference, already exists)."""

    user_message = "That case could not be used."


class InviteError(CaseVoiceError):
    """An invite could not be redeemed. One neutral message whatever the reason."""

    user_message = (
        "Sorry, that link can't be used. If you were expecting to take part in a review, "
        "please contact the person who sent it to you."
    )

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimitedError(InviteError):
    """Too many failed attempts from one person in a short time."""


class InterviewStateError(CaseVoiceError):
    """An action does not fit where the interview is (e.g. answering after submission)."""

    user_message = "That can't be done at this point of the interview."
