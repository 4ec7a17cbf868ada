"""Finding the "when" of a chronology event in the participant's own words.

Families rarely write a date with digits: "just before Christmas", "in the summer holidays",
"the week after her birthday". A head before a separator ("Spring 2023 - the visits stopped")
counts as the when if it holds a digit or one of these words; without a separator, the first
phrase that reads like a time is taken. The words are kept as written: normalising them to a
date is the reviewer's chronology's job, which never guesses.
"""

from __future__ import annotations

import re

SEPARATORS = (" - ", " – ", " — ", ":", "\n")
MAX_HEAD = 60

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_SEASONS = "spring|summer|autumn|fall|winter"
_FESTIVALS = (
    "christmas|xmas|new year|easter|eid|diwali|ramadan|hanukkah|bonfire night|halloween|"
    "half[- ]term|summer holidays?|school holidays?|christmas holidays?|easter holidays?"
)
_PERSONAL = "birthday|funeral|wedding|birth"
_RELATIVE = (
    r"yesterday|last (?:week|month|year)|fortnight|"
    r"(?:a|one|two|three|few) (?:days?|weeks?|months?) (?:later|after|before|ago)"
)
_WORDS = re.compile(
    rf"\b(?:{_MONTHS}|{_SEASONS}|{_FESTIVALS}|{_PERSONAL}|{_RELATIVE})\b", re.IGNORECASE
)
# A time phrase inside a sentence: an optional lead-in, then a time word, then an optional year.
_PHRASE = re.compile(
    r"(?:(?:just|right|shortly|soon|a few days|a week|two weeks|a month|not long)\s+)?"
    r"(?:(?:before|after|around|about|at|in|on|during|over|by|from|until|the week after|"
    r"the week before|the day after|the day before)\s+)?"
    r"(?:(?:the|last|that|this|early|late|mid|her|his|their|my|our)\s+){0,2}"
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b|(?:{_FESTIVALS}|{_MONTHS}|"
    rf"{_SEASONS}|{_PERSONAL})\b|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|(?:19|20)\d\d\b)"
    r"(?:,?\s+(?:of\s+)?(?:19|20)\d\d\b)?",
    re.IGNORECASE,
)


_VERBS = frozenset({"may", "march", "sat", "sun", "wed"})


def looks_like_a_time(text: str) -> bool:
    return any(c.isdigit() for c in text) or any(
        m.group(0) not in _VERBS for m in _WORDS.finditer(text)
    )


def split_event(text: str) -> tuple[str, str]:
    """'12 March 2024 - home visit' → ('12 March 2024', 'home visit'); no time → ('', text).

    'Just before Christmas the visits stopped' → ('Just before Christmas', the whole text).
    """
    for sep in SEPARATORS:
        head, found, tail = text.partition(sep)
        if found and 0 < len(head.strip()) <= MAX_HEAD and looks_like_a_time(head) and tail.strip():
            return head.strip(), tail.strip()
    for match in _PHRASE.finditer(text):
        phrase = match.group(0).strip(" ,")
        if phrase in _VERBS:
            continue  # "she may come", "we march on": lower-case words that are not months
        return phrase, text.strip()
    return "", text.strip()
