"""CaseVoice: review — the reviewer's side (verify, pull, export). Imports only ``storage``."""

from review.pull import PullProgress, PullResult, pull_case
from review.verify import Problem, StatementStatus, VerifyReport, verify_case

__all__ = [
    "Problem",
    "PullProgress",
    "PullResult",
    "StatementStatus",
    "VerifyReport",
    "pull_case",
    "verify_case",
]
