"""Plain words for reviewers: references, dates, consent and who someone is.

References: ``F-01 ¶7`` cites the answer to the 7th prompt of the participant's script (its
fixed place in the whole script, so branching never moves it), ``F-01 ¶7.2`` its second part
or event. Statements sealed before the fixed place was recorded fall back to the read-back
number, which is still the same on every pull of the same sealed file.
"""

from __future__ import annotations

from datetime import UTC, datetime

from review.desk.model import Consent, Item, Meta

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# How the markings of the Government Security Classifications read on a document.
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"


def item_ref(code: str, item: Item) -> str:
    return f"{code} ¶{item.paragraph if item.paragraph is not None else item.number}"


def part_ref(code: str, item: Item, index: int) -> str:
    return f"{item_ref(code, item)}.{index}"


def human_date(value: datetime | str | None) -> str:
    """``1 July 2024`` (UK order, month spelled out: never ambiguous)."""
    at = _as_datetime(value)
    return "—" if at is None else f"{at.day} {MONTHS[at.month - 1]} {at.year}"


def human_time(value: datetime | str | None) -> str:
    """``1 July 2024, 10:30 UTC``: minutes are enough for a reader; the JSON keeps the rest."""
    at = _as_datetime(value)
    return "—" if at is None else f"{human_date(at)}, {at:%H:%M} UTC"


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def consent_words(consent: Consent) -> str:
    """The three choices as a sentence a panel member can read aloud."""
    if not consent.take_part:
        return "Did not agree to take part."
    quote = "may be quoted (described by role)" if consent.quote else "must not be quoted"
    publish = (
        "anonymised quotes may appear in the published report"
        if consent.anonymised_publication
        else "no quotes in the published report"
    )
    return f"Agreed to take part; {quote}; {publish}."


def role_words(meta: Meta) -> str:
    """'professional: health visitor, Northshire Community Trust' or 'family'."""
    role = meta.role or "participant"
    detail = ", ".join(x for x in (meta.job_title, meta.agency) if x)
    return f"{role}: {detail}" if detail else role


def one_line(text: str) -> str:
    return " ".join(text.split())
