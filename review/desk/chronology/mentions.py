"""Finding time expressions in one sentence, the way families and professionals speak.

Each pattern is tried in order and a later one never overlaps an earlier match, so "3 March
2024" is one exact date, not a day, a month and a year. What cannot be dated without guessing
("the week after her birthday", "last year", "half term") is kept as a vague mention with the
reason, so it reaches the reviewer's "undated or ambiguous" list instead of the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["numeric", "day_month", "month", "season", "festival", "year", "relative", "vague"]

MONTH_NAMES = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip
_MONTH = r"(?P<month>january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_YEAR = r"(?:,?\s+(?:of\s+)?(?P<year>(?:19|20)\d\d)\b|\s+'(?P<yy>\d\d)\b)"
_QUAL = r"(?:(?P<qual>early|late|mid|the end of|the start of|the beginning of|the middle of|end of|start of|beginning of)[\s-]+)?"
_FESTIVAL = (
    r"(?P<festival>christmas eve|christmas day|boxing day|new year'?s? eve|new year'?s? day|"
    r"christmas|xmas|new year|easter sunday|easter monday|good friday|easter|bonfire night|"
    r"guy fawkes night|halloween|valentine'?s day)"
)
_NUMBER = r"(?P<n>a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a few|several|\d{1,2})"
_LEAD = r"(?:(?P<lead>just|right|shortly|soon|not long|a few days|a week|a couple of weeks)\s+)?(?P<rel>before|after|around|about|at|over|during|by|on|in)?\s*"

_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("numeric", re.compile(r"\b(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})\b")),
    ("numeric", re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b")),
    (
        "day_month",
        re.compile(
            rf"\b(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?!\w){_YEAR}?",
            re.IGNORECASE,
        ),
    ),
    (
        "day_month",
        re.compile(
            rf"\b{_MONTH}\s+(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*(?:years?|weeks?|days?|months?)){_YEAR}?",
            re.IGNORECASE,
        ),
    ),
    (
        "vague",
        re.compile(
            r"\bthe\s+(?:day|week|month|weekend)\s+(?:after|before)\s+(?:her|his|their|my|our|the|your)\s+\w+"
            r"|\b(?:a|an|one|two|three|four|five|six|\d+|a few|a couple of|several|a fortnight)"
            r"(?:\s+(?:days?|weeks?|months?|years?))?\s+(?:after|before)\s+(?:her|his|their|my|our|the|your)\s+\w+"
            r"|\b(?:last|this|next)\s+(?:week|month|year|spring|summer|autumn|winter|christmas|easter|"
            r"january|february|march|april|may|june|july|august|september|october|november|december)\b"
            r"|\b(?:\w+\s+)?(?:days?|weeks?|months?|years?)\s+ago\b|\ba (?:while|long time) (?:ago|back)\b"
            r"|\b(?:half[- ]term|eid|diwali|ramadan|hanukkah)\b|\b(?:yesterday|recently)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "festival",
        re.compile(
            rf"\b{_LEAD}(?:the\s+)?{_FESTIVAL}(?:\s+(?:holidays?|time|period))?{_YEAR}?\b",
            re.IGNORECASE,
        ),
    ),
    (
        "season",
        re.compile(
            rf"\b{_QUAL}(?:the\s+)?(?P<season>spring|summer|autumn|fall|winter)(?:\s+(?:term|holidays?|half[- ]term))?{_YEAR}?",
            re.IGNORECASE,
        ),
    ),
    ("month", re.compile(rf"\b{_QUAL}{_MONTH}{_YEAR}", re.IGNORECASE)),
    (
        "month",
        re.compile(
            rf"\b(?:in|during|by|since|until|till|from|early|late|mid|end of|start of|beginning of|that)\s+{_MONTH}(?!\w)",
            re.IGNORECASE,
        ),
    ),
    (
        "relative",
        re.compile(
            rf"\b(?:{_NUMBER}\s+(?P<unit>days?|weeks?|months?|years?)|(?P<fortnight>a fortnight))\s+"
            r"(?P<dir>later|after(?:wards)?(?:\s+that)?|on|before(?:\s+that)?|earlier)\b"
            r"|\bthe\s+(?P<next>next|following)\s+(?P<unit2>day|week|month|year)\b"
            r"|\bthe\s+(?P<unit3>day|week|month)\s+(?P<dir3>after|before)\s+(?:that|this)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "year",
        re.compile(r"\b(?P<year>19[5-9]\d|20[0-4]\d)\b(?![/\-]\d)(?!\s*(?:pounds|people|miles|%))"),
    ),
)


@dataclass(frozen=True)
class Mention:
    kind: Kind
    wording: str
    start: int
    end: int
    groups: dict[str, str]


def find_mentions(sentence: str) -> list[Mention]:
    """Every time expression in ``sentence``, in order, none overlapping."""
    taken: list[tuple[int, int]] = []
    found: list[Mention] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(sentence):
            start, end = match.span()
            wording = match.group(0).strip(" ,")
            if not wording or any(start < e and s < end for s, e in taken):
                continue
            if kind == "month" and match.group(0).strip().lower() in {"may", "march"}:
                continue
            if kind == "month" and _verb_may(sentence, match):
                continue
            start += len(match.group(0)) - len(match.group(0).lstrip(" ,"))
            taken.append((start, end))
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            found.append(Mention(kind, wording, start, end, groups))
    return sorted(found, key=lambda m: m.start)


def _verb_may(sentence: str, match: re.Match[str]) -> bool:
    """'by May' is a month, 'that may be' is not: lower-case 'may'/'march' after 'that'."""
    month = match.groupdict().get("month") or ""
    return month in {"may", "march"} and match.group(0).lower().startswith("that")
