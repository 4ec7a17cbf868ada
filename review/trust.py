"""Which bot key the reviewer trusts, and the last signed head they saw: the signer pin.

The store offers its own ``signer.pub``, but anyone who can write the store can replace it and
sign whatever they like with their own key. So the reviewer names the bot's key themselves: the
fingerprint ``casevoice init`` and ``casevoice case show`` print (``ed25519:<64 hex>``), passed
as ``--trusted-signer`` on the first pull, or, knowingly, ``--trust-on-first-use``. The pull then
keeps a pin in the output folder (``signer-pin.json``): the signer and the newest signed head
seen. Later pulls refuse another signer, a head older than the pinned one (a rolled-back store)
and a ledger whose pinned entry changed (a rewritten history), whether or not an index exists.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from storage.evidence.common import (
    FORMAT_VERSION,
    GENESIS_HASH,
    canonical_json,
    check_ref,
    is_hex64,
    load_json_object,
    printable,
)
from storage.evidence.errors import EvidenceError, SigningKeyError, UntrustedSignerError
from storage.evidence.keys import fingerprint, load_public_key

PIN_FILE = "signer-pin.json"
FINGERPRINT_RE = re.compile(r"ed25519:[0-9a-f]{64}")
_MAX_KEY_FILE_BYTES = 16 * 1024

How = Literal["given", "first-use"]


@dataclass(frozen=True)
class TrustedSigner:
    """The bot key the reviewer trusts: its fingerprint, and the key itself if given as a file."""

    fingerprint: str
    key: Ed25519PublicKey | None = None


def parse_trusted_signer(value: str) -> TrustedSigner:
    """``--trusted-signer``: a fingerprint as printed (``ed25519:…``) or a public key file."""
    text = value.strip().lower()
    if FINGERPRINT_RE.fullmatch(text):
        return TrustedSigner(text)
    path = Path(value)
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError:
        raise UntrustedSignerError(
            f"--trusted-signer {printable(value, 80)!r} is neither a signer fingerprint "
            "(ed25519: and 64 hex digits, as `casevoice case show` prints it) nor a readable "
            "public key file"
        ) from None
    try:
        key = load_public_key(data[:_MAX_KEY_FILE_BYTES])
    except SigningKeyError as exc:
        raise UntrustedSignerError(f"--trusted-signer {path}: {exc}") from None
    return TrustedSigner(fingerprint(key), key)


@dataclass(frozen=True)
class Trust:
    """What a case is verified against. ``signer`` None: the store's own key, on first use."""

    signer: TrustedSigner | None
    seen_seq: int = 0
    seen_hash: str = GENESIS_HASH

    @classmethod
    def on_first_use(cls) -> Trust:
        return cls(None)

    @classmethod
    def pinned(cls, signer: str | TrustedSigner) -> Trust:
        return cls(TrustedSigner(signer) if isinstance(signer, str) else signer)


@dataclass(frozen=True)
class SignerPin:
    case_ref: str
    signer: str
    head_seq: int
    head_hash: str
    how: How

    def to_bytes(self) -> bytes:
        return canonical_json({"version": FORMAT_VERSION, **asdict(self)}) + b"\n"


def load_pin(folder: Path, case_ref: str) -> SignerPin | None:
    """The pin kept in ``folder`` by an earlier pull of ``case_ref``, or None if there is none."""
    path = folder / PIN_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EvidenceError(f"{path} cannot be read ({type(exc).__name__})") from None
    raw = load_json_object(data, EvidenceError, str(path))
    how = raw.get("how")
    seq = raw.get("head_seq")
    if not (
        FINGERPRINT_RE.fullmatch(str(raw.get("signer")))
        and type(seq) is int
        and seq >= 0
        and is_hex64(raw.get("head_hash"))
        and how in ("given", "first-use")
        and isinstance(raw.get("case_ref"), str)
    ):
        raise EvidenceError(
            f"{path} is damaged: restore it from a backup, or pull into a new folder with "
            "--trusted-signer"
        )
    if raw["case_ref"] != case_ref:
        raise EvidenceError(
            f"{folder} holds case {printable(raw['case_ref'], 64)}, not {check_ref(case_ref)}"
        )
    return SignerPin(case_ref, raw["signer"], seq, raw["head_hash"], how)


def resolve_trust(
    pin: SignerPin | None, given: TrustedSigner | None, first_use: bool, folder: Path | None
) -> Trust:
    """The trust a pull (``folder``: its output folder) or a verify (None) works with."""
    if pin is not None:
        if given is not None and given.fingerprint != pin.signer:
            raise UntrustedSignerError(
                f"--trusted-signer {given.fingerprint} is not the signer pinned in {folder} "
                f"({pin.signer}): a pinned signer never changes silently; if the bot's key was "
                "really replaced, pull into a new folder"
            )
        signer = given if given is not None else TrustedSigner(pin.signer)
        return Trust(signer, pin.head_seq, pin.head_hash)
    if given is not None:
        return Trust(given)
    if first_use:
        return Trust.on_first_use()
    what = f"the first pull into {folder}" if folder is not None else "verify"
    raise UntrustedSignerError(
        f"{what} needs the bot key to trust: --trusted-signer FINGERPRINT (the case "
        "administrator prints it with `casevoice case show`), or knowingly --trust-on-first-use"
        + ("" if folder is not None else ", or --pin-from a folder you pulled the case into")
    )
