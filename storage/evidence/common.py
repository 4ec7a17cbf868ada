"""Shared small pieces: canonical JSON, hashing, UTC timestamps and safe names.

Canonical JSON (sorted keys, no whitespace, UTF-8) is what gets hashed and signed, so the same
document always yields the same bytes on the bot and on the reviewer's machine.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from storage.errors import CaseVoiceError
from storage.evidence.errors import InvalidNameError

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64

# Case refs and statement ids become path segments and object-key segments: a small safe charset
# (no dots, slashes or leading dashes) makes traversal and odd file names impossible by design.
_REF_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
# A withdrawal notice's reason: a short code, never free text.
REASON_CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# What ``iso_utc`` writes. [0-9], not \d: \d also matches other scripts' digits.
_UTC_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?\+00:00")


def canonical_json(value: Any) -> bytes:
    """The one byte form of a JSON document that is hashed and signed."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(at: datetime) -> str:
    """ISO 8601 in UTC; naive datetimes are refused rather than guessed."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(UTC).isoformat()


def check_ref(value: str, what: str = "case ref") -> str:
    """Validate a case ref or statement id: 1–64 of ``A-Z a-z 0-9 _ -``, not starting with -/_."""
    if not isinstance(value, str) or not _REF_RE.fullmatch(value):
        raise InvalidNameError(
            f"{what} {value!r:.80} is not allowed: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def check_key(key: str) -> str:
    """Validate a '/'-separated object key: safe segments, no '.', '..', empty or hidden parts."""
    parts = key.split("/") if isinstance(key, str) else []
    if not parts or any(not _SEGMENT_RE.fullmatch(p) or ".." in p for p in parts):
        raise InvalidNameError(f"object key {key!r:.120} is not allowed")
    return key


def is_hex64(value: object) -> bool:
    """A lower-case hex SHA-256 (what ledger entries, heads and signatures carry)."""
    return isinstance(value, str) and _HEX64_RE.fullmatch(value) is not None


def is_utc_timestamp(value: object) -> bool:
    """A timestamp exactly as ``iso_utc`` writes it."""
    return isinstance(value, str) and _UTC_RE.fullmatch(value) is not None


def printable(value: object, limit: int = 200) -> str:
    """Text read from the store, made safe for a terminal or a Markdown index.

    Anything not printable (C0/C1 controls such as ESC or CSI, line breaks, bidi overrides and
    other format characters) is shown as its escape (``\\x1b``, ``\\u202e``), so a file name or
    a field in a store file can never drive the reviewer's terminal or disguise itself.
    """
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def load_json_object(data: bytes, error: type[CaseVoiceError], what: str) -> dict[str, Any]:
    """Parse untrusted JSON that must be an object, raising ``error`` (never anything else).

    ``RecursionError`` is caught too: ``[[[[…`` nested deep enough exhausts the parser's stack.
    """
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise error(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise error(f"{what} is not a JSON object")
    return value
