"""Errors of the interview domain, all part of the one CaseVoice tree (storage/errors.py).

``str(exc)`` carries ids, file positions and reasons only; never a participant's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.errors import CaseVoiceError


@dataclass(frozen=True)
class ScriptProblem:
    """One mistake in an interview script, with where it is (1-based line and column)."""

    source: str
    line: int | None
    col: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}:{self.col or 1}: {self.message}"


class ScriptError(CaseVoiceError):
    """An interview script is not valid; ``problems`` lists every mistake with its line."""

    user_message = "This interview script has mistakes, so it cannot be used yet."

    def __init__(self, problems: Sequence[ScriptProblem]) -> None:
        self.problems: tuple[ScriptProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InterviewError(CaseVoiceError):
    """A move in the interview that is not possible from where the participant is."""

    user_message = "That is not possible right now. Your answers are safe."


class SkipNotAllowedError(InterviewError):
    """The participant tried to skip a required prompt. They may still pause."""

    user_message = (
        "We need an answer to this question to go on. "
        "You can pause now and come back to it whenever you are ready."
    )

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        super().__init__(f"prompt {prompt_id} is required and cannot be skipped")


class NavigationError(InterviewError):
    """The requested prompt does not exist or is not shown with the current answers."""

    user_message = "That question is not available right now."


class AtFirstPromptError(NavigationError):
    """Back was pressed on the first prompt."""

    user_message = "This is the first question, so there is nothing to go back to."


class ConsentError(InterviewError):
    """Consent choices that do not fit together (for example, quotes without taking part)."""

    user_message = "Something about your choices did not fit together. Please choose again."
