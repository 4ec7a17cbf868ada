"""From mentions to dates at their stated precision, within one answer, never guessing.

A date needs a year. One without ("on the 3rd of March", "in the spring") takes the year of
the nearest earlier date in the same answer, or of the date it runs to in a range ("from March
to June 2024"), but only if that keeps the story moving forward; otherwise it is ambiguous.
"Two weeks later" and "a fortnight after that" count from the nearest earlier date in the same
answer; with none, they are ambiguous too. dateparser reads the exact dates (UK day-first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import dateparser
from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

from review.desk.chronology.mentions import MONTH_NAMES, Mention, find_mentions

Precision = Literal["day", "month", "season", "year", "approximate"]
PRECISE: dict[Precision, int] = {"day": 0, "month": 1, "season": 2, "approximate": 3, "year": 4}
SEASON_START = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
FIXED_FESTIVALS = {
    "christmas eve": (12, 24),
    "christmas day": (12, 25),
    "boxing day": (12, 26),
    "christmas": (12, 25),
    "xmas": (12, 25),
    "new years eve": (12, 31),
    "new year eve": (12, 31),
    "new years day": (1, 1),
    "new year day": (1, 1),
    "new year": (1, 1),
    "bonfire night": (11, 5),
    "guy fawkes night": (11, 5),
    "halloween": (10, 31),
    "valentines day": (2, 14),
    "valentine day": (2, 14),
}
EASTER_OFFSET = {"easter": 0, "easter sunday": 0, "easter monday": 1, "good friday": -2}
ONE_DAY_FESTIVALS = {
    "christmas eve", "christmas day", "boxing day", "new years eve", "new year eve",
    "new years day", "new year day", "bonfire night", "guy fawkes night", "halloween",
    "valentines day", "valentine day", "easter sunday", "easter monday", "good friday",
}  # fmt: skip
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
VAGUE_AMOUNTS = {"a couple of": 2, "a few": 3, "several": 3}
_SETTINGS = {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "STRICT_PARSING": True}
_RANGE_JOIN = re.compile(r"^\s*(?:to|until|till|and|through|-|–|—)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Dated:
    """A date at a precision; ``value`` is the first day it can mean (used for sorting)."""

    value: date
    precision: Precision
    normalised: str
    how: str = ""  # how it was resolved, when not stated in full


@dataclass(frozen=True)
class Resolved:
    mention: Mention
    sentence: str
    dated: Dated | None
    problem: str | None = None  # why it is not dated (undated/ambiguous list)


def normalised(value: date, precision: Precision, season: str | None = None) -> str:
    if precision == "day":
        return value.isoformat()
    if precision == "month":
        return f"{value:%Y-%m}"
    if precision == "season":
        return f"{value.year if season != 'winter' else value.year}-{season}"
    if precision == "year":
        return f"{value.year}"
    return f"c. {value.isoformat()}"


def _year(groups: dict[str, str]) -> int | None:
    if "year" in groups:
        return int(groups["year"])
    if "yy" in groups:
        return 2000 + int(groups["yy"])
    return None


class AnswerResolver:
    """Resolves the mentions of one answer in reading order, keeping the last firm date."""

    def __init__(self) -> None:
        self.anchor: Dated | None = None
        self.anchor_wording = ""

    def sentence(self, sentence: str) -> list[Resolved]:
        mentions = find_mentions(sentence)
        out = []
        for index, mention in enumerate(mentions):
            range_year = self._range_year(sentence, mentions, index)
            dated, problem = self._one(mention, range_year)
            out.append(Resolved(mention, sentence, dated, problem))
            if dated is not None:
                self.anchor, self.anchor_wording = dated, mention.wording
        return out

    @staticmethod
    def _range_year(sentence: str, mentions: list[Mention], index: int) -> int | None:
        if index + 1 >= len(mentions):
            return None
        after = mentions[index + 1]
        between = sentence[mentions[index].end : after.start]
        return _year(after.groups) if _RANGE_JOIN.match(between) else None

    def _inferred_year(self, month: int, range_year: int | None) -> tuple[int | None, str]:
        if range_year is not None:
            return range_year, "year from the range it is part of"
        if self.anchor is None:
            return None, ""
        year = self.anchor.value.year
        if (year, month) < (self.anchor.value.year, self.anchor.value.month):
            return None, ""
        return year, f"year from “{self.anchor_wording}” earlier in the answer"

    def _one(self, mention: Mention, range_year: int | None) -> tuple[Dated | None, str | None]:
        g = mention.groups
        kind = mention.kind
        if kind == "vague":
            return None, "relative to something without a date, or to the day it was said"
        if kind == "numeric":
            parsed = dateparser.parse(mention.wording, languages=["en"], settings=_SETTINGS)
            if parsed is None:
                return None, "not a real date"
            day = parsed.date()
            return Dated(day, "day", normalised(day, "day")), None
        if kind == "relative":
            return self._relative(g)
        if kind == "year":
            day = date(int(g["year"]), 1, 1)
            return Dated(day, "year", normalised(day, "year")), None
        month = MONTH_NAMES.get(g.get("month", "").lower().rstrip("."), 0)
        season = g.get("season", "").lower().replace("fall", "autumn") or None
        festival = re.sub(r"['’]", "", g.get("festival", "").lower()) or None
        first_month = month or (SEASON_START[season] if season else 0) or (12 if festival else 1)
        year = _year(g)
        how = ""
        if year is None:
            year, how = self._inferred_year(first_month, range_year)
            if year is None:
                return None, "no year given"
        if kind == "day_month":
            text = f"{g['day']} {g['month']} {year}"
            parsed = dateparser.parse(text, languages=["en"], settings=_SETTINGS)
            if parsed is None:
                return None, "not a real date"
            return Dated(parsed.date(), "day", normalised(parsed.date(), "day"), how), None
        if kind == "month":
            day = date(year, month, 1)
            return Dated(day, "month", normalised(day, "month"), how), None
        if kind == "season" and season is not None:
            day = date(year, SEASON_START[season], 1)
            return Dated(day, "season", f"{year}-{season}", how), None
        if festival is not None:
            return self._festival(festival, year, g, how), None
        return None, "not understood"

    @staticmethod
    def _festival(festival: str, year: int, g: dict[str, str], how: str) -> Dated:
        if festival in EASTER_OFFSET:
            day = easter(year) + timedelta(days=EASTER_OFFSET[festival])
        else:
            month, dom = FIXED_FESTIVALS[festival]
            day = date(year, month, dom)
        rel = (g.get("rel") or "on").lower()
        exact = festival in ONE_DAY_FESTIVALS and not g.get("lead") and rel == "on"
        precision: Precision = "day" if exact else "approximate"
        return Dated(day, precision, normalised(day, precision), how)

    def _relative(self, g: dict[str, str]) -> tuple[Dated | None, str | None]:
        if self.anchor is None:
            return None, "relative to no date given earlier in the answer"
        amount_word = (g.get("n") or "").lower()
        vague = amount_word in VAGUE_AMOUNTS
        if g.get("fortnight"):
            amount, unit = 2, "week"
        elif g.get("next"):
            amount, unit = 1, g["unit2"].lower()
        elif g.get("unit3"):
            amount, unit = 1, g["unit3"].lower()
        else:
            amount = VAGUE_AMOUNTS.get(amount_word) or NUMBERS.get(amount_word) or int(amount_word)
            unit = g["unit"].lower().rstrip("s")
        direction = (g.get("dir") or g.get("dir3") or "after").lower()
        sign = -1 if direction.startswith(("before", "earlier")) else 1
        step = {
            "day": relativedelta(days=amount),
            "week": relativedelta(weeks=amount),
            "month": relativedelta(months=amount),
            "year": relativedelta(years=amount),
        }[unit]
        value = self.anchor.value + step * sign
        base = self.anchor.precision
        finest: Precision = "day" if unit in ("day", "week") else unit  # type: ignore[assignment]
        # Counting days from a day keeps the day; counting weeks from a month, or anything from
        # a season or a rough date, can only be approximate.
        precision: Precision = (
            finest if not vague and PRECISE[base] <= PRECISE[finest] else "approximate"
        )
        how = f"counted from “{self.anchor_wording}” earlier in the answer"
        return Dated(value, precision, normalised(value, precision), how), None


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'])|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def resolve_text(text: str) -> list[Resolved]:
    """Every mention in ``text`` (one answer), resolved in reading order."""
    resolver = AnswerResolver()
    return [r for s in sentences(text) for r in resolver.sentence(s)]
