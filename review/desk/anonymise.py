"""Anonymising an extract for publication, and flagging what may still identify someone.

The reviewer supplies the pseudonym map (names, places, schools → "the child", "Mother",
"School A"); it is applied whole-word and case-insensitively, longest first, so "Oak Lane
Primary" goes before "Oak". Emails, phone numbers and postcodes are removed outright (a
published quote never needs them). What may still identify someone is flagged for the reviewer
to confirm, never silently changed: capitalised names not in the map, dates of birth,
addresses, ages next to names. Every change and flag goes into the redaction log.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from storage.evidence.errors import EvidenceError

REMOVE = (
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "[email removed]"),
    (
        "phone number",
        re.compile(
            r"(?<!\w)(?:\+44\s?7\d{3}|07\d{3})\s?\d{3}\s?\d{3}\b|(?<!\w)(?:\+44\s?|0)(?:1\d{2,4}|2\d)\s?\d{3,4}\s?\d{3,4}\b"
        ),
        "[phone number removed]",
    ),
    (
        "postcode",
        re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE),
        "[postcode removed]",
    ),
)
FLAGS = (
    (
        "date of birth",
        re.compile(
            r"\b(?:born|date of birth|DOB|d\.o\.b\.?)\b[^.]{0,30}?\b(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Z][a-z]+\s+\d{4})",
            re.IGNORECASE,
        ),
    ),
    (
        "address",
        re.compile(
            r"\b\d{1,4}[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){1,3}(?:Road|Street|Avenue|Lane|Close|Drive|Way|Crescent|Court|Place|Gardens|Terrace|Grove|Hill|Park|Rd|St|Ave)\b"
        ),
    ),
    (
        "age next to a name",
        re.compile(
            r"\b\w+\s*\(\s*\d{1,2}\s*\)|\b[A-Z][a-z]+,?\s+(?:aged|age)\s+\d{1,2}\b|\b\d{1,2}[- ]year[- ]old\s+[A-Z][a-z]+"
        ),
    ),
)
_CAPITALISED = re.compile(r"\b[A-Z][a-z'’]+(?:\s+[A-Z][a-z'’]+)*")
# Capitalised words that are not names: sentence openers, titles, months, days, festivals, the
# words services and families use for each other.
_COMMON_WORDS = """I A An The He She They We It My Our His Her Their Your You This That These Those When Then
    After Before And But So If In On At There Here What Why How Who Yes No Not Nobody Everyone
    Someone Once Also Because Sometimes Mum Dad Mam Mummy Daddy Nan Nana Grandad Grandma Granny
    Grandmother Grandfather Mother Father Mr Mrs Ms Miss Dr January February March April May
    June July August September October November December Monday Tuesday Wednesday Thursday
    Friday Saturday Sunday Christmas Easter New Year Halloween Bonfire Night GP A&E NHS Police
    School Nursery Hospital Social Services Council Early Help Health Visitor Child Protection
    Conference MASH MARAC Children Family English Welsh Call Email Please Thank Thanks Listen
    One Two Three Four Five Six Seven Eight Nine Ten Nothing Everything"""
COMMON = frozenset(_COMMON_WORDS.split())


@dataclass(frozen=True)
class Flag:
    kind: str
    text: str


@dataclass(frozen=True)
class Change:
    kind: str  # "pseudonym" or what was removed
    original: str
    replacement: str


@dataclass(frozen=True)
class Anonymised:
    text: str
    changes: tuple[Change, ...]
    flags: tuple[Flag, ...]


def load_pseudonyms(path: Path) -> list[tuple[str, str]]:
    """A two-column CSV: original, replacement (a header row is allowed)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"pseudonym map {path} cannot be read") from exc
    pairs = []
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 2 or not row[0].strip():
            continue
        original, replacement = row[0].strip(), row[1].strip()
        if (original.lower(), replacement.lower()) == ("original", "replacement"):
            continue
        pairs.append((original, replacement))
    return pairs


def anonymise(text: str, pseudonyms: list[tuple[str, str]]) -> Anonymised:
    changes: list[Change] = []
    for original, replacement in sorted(pseudonyms, key=lambda p: -len(p[0])):
        pattern = re.compile(rf"(?<!\w){re.escape(original)}(?!\w)", re.IGNORECASE)
        for found in pattern.findall(text):
            changes.append(Change("pseudonym", found, replacement))
        text = pattern.sub(replacement, text)
    for kind, pattern, replacement in REMOVE:
        for found in pattern.findall(text):
            changes.append(Change(kind, found, replacement))
        text = pattern.sub(replacement, text)
    flags = [Flag(kind, m.group(0)) for kind, pattern in FLAGS for m in pattern.finditer(text)]
    known = {r.lower() for _, r in pseudonyms}
    for match in _CAPITALISED.finditer(text):
        words = [w for w in match.group(0).split() if w not in COMMON]
        name = " ".join(words)
        if words and name.lower() not in known and not any(name in f.text for f in flags):
            flags.append(Flag("name not in the map", name))
    return Anonymised(text, tuple(changes), tuple(flags))
