"""Keys: the bot's Ed25519 signing key and the reviewers' age X25519 keys.

The bot holds its own signing key and only the reviewers' *public* keys (recipients). A reviewer's
private key (``AGE-SECRET-KEY-1…``) must never exist on the bot host: ``refuse_secret_key`` is
run over configuration values so a pasted private key fails loudly instead of lingering.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyrage
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from storage.evidence.common import utc_now
from storage.evidence.errors import (
    BadRecipientError,
    IdentityFileError,
    SecretKeyInConfigError,
    SigningKeyError,
)
from storage.files import write_new_file

SECRET_KEY_MARKER = "AGE-SECRET-KEY-1"  # noqa: S105 - a prefix to detect, not a secret


# --- the bot's signing key -------------------------------------------------------------------


def generate_signing_key(path: Path) -> Ed25519PrivateKey:
    """Create a new Ed25519 key as PKCS#8 PEM in a new 0600 file; never overwrites."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        write_new_file(path, pem)
    except FileExistsError as exc:
        raise SigningKeyError(f"signing key file {path} already exists") from exc
    return key


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the bot's signing key; refuse a file that group or others can read (fail closed)."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(
            f"signing key {path} cannot be read ({exc.strerror or type(exc).__name__}); run "
            "`casevoice init`, or point CASEVOICE_SIGNING_KEY_FILE at the bot's key"
        ) from exc
    if mode & 0o077:
        raise SigningKeyError(f"signing key {path} is readable by others: chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"signing key {path} is not an unencrypted PEM key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path} is not an Ed25519 key")
    return key


class SigningKeyFile:
    """The bot's signing key, loaded on first use and then kept: a process that never signs
    (a transcription worker) never needs the key on its host."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: Ed25519PrivateKey | None = None

    def __call__(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = load_signing_key(self.path)
        return self._key


def public_key_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64(public: Ed25519PublicKey) -> str:
    return base64.b64encode(public_key_raw(public)).decode("ascii")


def public_key_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(public: Ed25519PublicKey) -> str:
    """``ed25519:`` + hex SHA-256 of the raw public key: what signature documents name."""
    return "ed25519:" + hashlib.sha256(public_key_raw(public)).hexdigest()


def load_public_key(data: bytes | str) -> Ed25519PublicKey:
    """Read a signer public key given as PEM or as base64 of the 32 raw bytes."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(raw)
            if not isinstance(key, Ed25519PublicKey):
                raise SigningKeyError("signer public key is not an Ed25519 key")
            return key
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(raw.strip(), validate=True))
    except (ValueError, TypeError) as exc:
        raise SigningKeyError("signer public key is neither PEM nor base64 Ed25519") from exc


# --- reviewers' age keys -----------------------------------------------------------------------


def refuse_secret_key(value: object, setting: str = "configuration") -> None:
    """Raise if an age private key appears anywhere in ``value`` (strings, mappings, lists).

    The message names the setting, never the value.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        if SECRET_KEY_MARKER in value.upper():
            raise SecretKeyInConfigError(
                f"{setting} contains an age private key (AGE-SECRET-KEY-1…); "
                "only reviewer public keys (age1…) belong on the bot side"
            )
    elif isinstance(value, Mapping):
        for name, item in value.items():
            refuse_secret_key(item, f"{setting}.{name}")
    elif isinstance(value, Iterable):
        for index, item in enumerate(value):
            refuse_secret_key(item, f"{setting}[{index}]")


def parse_recipient(value: str) -> str:
    """Validate an age X25519 recipient (``age1…``) and return its canonical form."""
    text = value.strip() if isinstance(value, str) else ""
    refuse_secret_key(text, "recipient")
    if not text:
        raise BadRecipientError("recipient is empty: expected an age public key (age1…)")
    if text.startswith(("ssh-", "ecdsa-")):
        raise BadRecipientError("SSH keys are not supported: use an age X25519 recipient (age1…)")
    if not text.lower().startswith("age1"):
        raise BadRecipientError(f"recipient {text[:12]!r}… does not start with 'age1'")
    if "1" in text[4:]:
        # Bech32 puts the separator at the last '1'; only plugin recipients (age1yubikey1…)
        # have another '1' after the "age1" prefix.
        raise BadRecipientError(
            f"recipient {text[:12]}… is a plugin or unknown recipient type, not X25519"
        )
    try:
        recipient: Any = pyrage.x25519.Recipient.from_str(text)
    except pyrage.RecipientError as exc:
        raise BadRecipientError(f"recipient {text[:12]}… is not a valid age key: {exc}") from exc
    return str(recipient)


def parse_recipients(values: Iterable[str]) -> list[str]:
    """Validate a case's recipients: at least one, duplicates dropped, order kept."""
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(parse_recipient(value), None)
    if not seen:
        raise BadRecipientError("a case needs at least one reviewer recipient (age1…)")
    return list(seen)


def generate_identity() -> tuple[str, str]:
    """A new reviewer identity: (``AGE-SECRET-KEY-1…``, ``age1…``)."""
    identity: Any = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def identity_file_text(secret: str, recipient: str, created: datetime | None = None) -> str:
    """The file format ``age-keygen`` writes, so ``age -d -i FILE`` reads it too."""
    stamp = (created or utc_now()).replace(microsecond=0).isoformat()
    return f"# created: {stamp}\n# public key: {recipient}\n{secret}\n"


def write_identity_file(path: Path) -> str:
    """Generate an identity into a new 0600 file (never overwrites); return its recipient."""
    secret, recipient = generate_identity()
    try:
        write_new_file(path, identity_file_text(secret, recipient).encode("ascii"))
    except FileExistsError as exc:
        raise IdentityFileError(f"{path} already exists; not overwriting an identity") from exc
    return recipient


def load_identities(path: Path) -> list[Any]:
    """Read age X25519 identities from a file made by ``age-keygen`` or ``review keygen``.

    Comment and blank lines are skipped. Errors name the line, never its content.
    """
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise IdentityFileError(
            f"identity file {path} cannot be read ({reason}); give the file that "
            "`casevoice review keygen` or age-keygen made"
        ) from exc
    identities: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.upper().startswith(SECRET_KEY_MARKER):
            raise IdentityFileError(f"{path} line {number}: not an AGE-SECRET-KEY-1 identity")
        try:
            identities.append(pyrage.x25519.Identity.from_str(line))
        except pyrage.IdentityError as exc:
            raise IdentityFileError(f"{path} line {number}: invalid age identity") from exc
    if not identities:
        raise IdentityFileError(f"identity file {path} holds no AGE-SECRET-KEY-1 line")
    return identities
