"""Splitting text into Telegram-sized messages (the hard limit is 4096 characters)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

TELEGRAM_LIMIT = 4096


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at paragraph, then line, then word boundaries; cut words only when unavoidable."""
    if limit < 1:
        raise ValueError("limit must be positive")
    out: list[str] = []
    rest = text.strip("\n")
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not out:
        out.append(rest)
    return out


def pack_blocks(
    blocks: Sequence[str],
    limit: int,
    header: Callable[[int, int], str] | None = None,
) -> list[str]:
    """Join blocks with blank lines into as few messages of at most ``limit`` characters as fit.

    ``header(part, parts)`` is put on top of every message (so previews show a neutral line).
    A block too big for one message is split with ``split_text``.
    """
    reserve = len(header(999, 999)) + 2 if header else 0
    room = limit - reserve
    if room < 1:
        raise ValueError("limit too small for the header")
    pieces = [piece for block in blocks for piece in split_text(block, room)]
    bodies: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n\n{piece}" if current else piece
        if len(joined) <= room:
            current = joined
        else:
            bodies.append(current)
            current = piece
    if current or not bodies:
        bodies.append(current)
    if header is None:
        return bodies
    return [f"{header(i, len(bodies))}\n\n{body}" for i, body in enumerate(bodies, start=1)]
