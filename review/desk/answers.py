"""An answer as plain text, part by part, with its citable reference (grid, QDA, quotes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from review.desk.model import Item, Statement
from review.desk.words import item_ref, one_line, part_ref


@dataclass(frozen=True)
class Piece:
    """One citable piece of an answer: a part, an event, or the choices made."""

    ref: str
    text: str
    kind: str  # "text" | "voice" | "event" | "choice"
    when: str | None = None


def pieces(statement: Statement, item: Item) -> Iterator[Piece]:
    code = statement.code
    if item.status != "answered":
        return
    if item.chosen:
        yield Piece(item_ref(code, item), ", ".join(c.label for c in item.chosen), "choice")
    for index, part in enumerate(item.parts, start=1):
        yield Piece(part_ref(code, item, index), part.text, part.kind)
    for index, event in enumerate(item.events, start=1):
        for part in event.parts:
            yield Piece(
                part_ref(code, item, index), part.text, "event", own_when(event.when, part.text)
            )


def own_when(when: str, text: str) -> str | None:
    """The event's "when", unless the text already starts with it (no need to say it twice)."""
    return None if text.lstrip().lower().startswith(when.strip().lower()) else when


def answer_text(statement: Statement, item: Item, *, with_refs: bool = True) -> str:
    """The whole answer for one cell: each piece on its own line, headed by its reference."""
    if item.status == "skipped":
        return "(skipped)"
    if item.status == "not_answered":
        return "(not answered)"
    lines = []
    for piece in pieces(statement, item):
        body = f"{one_line(piece.when)} — {piece.text}" if piece.when else piece.text
        lines.append(f"{piece.ref}: {body}" if with_refs else body)
    return "\n".join(lines)
