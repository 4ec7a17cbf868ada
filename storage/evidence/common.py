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

from storage.evidence.errors import InvalidNameError

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64

# Case refs and statement ids become path segments and object-key segments: a small safe charset
# (no dots, slashes or leading dashes) makes traversal and odd file names impossible by design.
_REF_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


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
