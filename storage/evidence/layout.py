"""Object keys of the evidence store (the on-disk/in-bucket layout, in one place).

```
signer.pub                              the bot's Ed25519 public key (PEM), pinned on first write
<case_ref>/<statement_id>.age           the sealed statement (age, binary)
<case_ref>/<statement_id>.sig.json      signature document over the sealed file's SHA-256
<case_ref>/<statement_id>.withdrawal.json       withdrawal notice (canonical JSON, no content)
<case_ref>/<statement_id>.withdrawal.sig.json   its signature document
<case_ref>/ledger.jsonl                 the hash-chained evidence ledger (one entry per line)
<case_ref>/ledger.head.json             signed head: last seq and entry hash
```

There is no separate manifest: the ledger is the one index of a case. A second mutable index
could disagree with it after a crash, and the ledger is already hash-chained and signed.
"""

from __future__ import annotations

from typing import Literal

from storage.evidence.common import check_ref
from storage.evidence.package import MAX_PACKAGE_BYTES

SIGNER_KEY = "signer.pub"
STATEMENT_SUFFIX = ".age"
SIG_SUFFIX = ".sig.json"
WITHDRAWAL_SUFFIX = ".withdrawal.json"
WITHDRAWAL_SIG_SUFFIX = ".withdrawal.sig.json"
LEDGER_NAME = "ledger.jsonl"
HEAD_NAME = "ledger.head.json"

Kind = Literal["statement", "withdrawal"]

# Nothing larger than these is ever read from the store (the size is checked before reading).
MAX_SMALL_OBJECT_BYTES = 64 * 1024  # signature documents, the head, notices, signer.pub
MAX_LEDGER_BYTES = 64 * 1024 * 1024  # some 150,000 entries
# age adds a header (≈200 bytes per recipient) and 16 bytes per 64 KiB chunk to the package.
MAX_SEALED_BYTES = MAX_PACKAGE_BYTES + 1024 * 1024


def object_cap(key: str) -> int:
    """The most bytes an object under ``key`` may hold."""
    if key.endswith(STATEMENT_SUFFIX):
        return MAX_SEALED_BYTES
    if key.endswith(f"/{LEDGER_NAME}"):
        return MAX_LEDGER_BYTES
    return MAX_SMALL_OBJECT_BYTES


def statement_key(case_ref: str, statement_id: str) -> str:
    return f"{check_ref(case_ref)}/{check_ref(statement_id, 'statement id')}{STATEMENT_SUFFIX}"


def withdrawal_key(case_ref: str, statement_id: str) -> str:
    return f"{check_ref(case_ref)}/{check_ref(statement_id, 'statement id')}{WITHDRAWAL_SUFFIX}"


def object_key(kind: Kind, case_ref: str, statement_id: str) -> str:
    if kind == "statement":
        return statement_key(case_ref, statement_id)
    return withdrawal_key(case_ref, statement_id)


def sig_key(object_key_: str) -> str:
    """The signature document that belongs to an object key."""
    if object_key_.endswith(STATEMENT_SUFFIX):
        return object_key_[: -len(STATEMENT_SUFFIX)] + SIG_SUFFIX
    if object_key_.endswith(WITHDRAWAL_SUFFIX):
        return object_key_[: -len(WITHDRAWAL_SUFFIX)] + WITHDRAWAL_SIG_SUFFIX
    raise ValueError(f"no signature for object {object_key_}")


def ledger_key(case_ref: str) -> str:
    return f"{check_ref(case_ref)}/{LEDGER_NAME}"


def head_key(case_ref: str) -> str:
    return f"{check_ref(case_ref)}/{HEAD_NAME}"


def classify(key: str) -> tuple[Kind, str] | None:
    """(kind, statement id) for a sealed-statement or withdrawal-notice key, else None."""
    name = key.rsplit("/", 1)[-1]
    if name.endswith(WITHDRAWAL_SIG_SUFFIX) or name.endswith(SIG_SUFFIX):
        return None
    if name.endswith(WITHDRAWAL_SUFFIX):
        return "withdrawal", name[: -len(WITHDRAWAL_SUFFIX)]
    if name.endswith(STATEMENT_SUFFIX):
        return "statement", name[: -len(STATEMENT_SUFFIX)]
    return None
