"""Sealing: age encryption to every reviewer, Ed25519 signature documents, receipt codes.

A signature file is canonical JSON ``{"algorithm": "ed25519", "document": {...},
"signature": "<base64>"}``. The signed bytes are a fixed domain prefix followed by the canonical
JSON of the document, so a CaseVoice signature can never be replayed as some other message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import pyrage
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from storage.evidence.common import FORMAT_VERSION, canonical_json, load_json_object, printable
from storage.evidence.errors import EvidenceError, SignatureError, WrongIdentityError
from storage.evidence.keys import fingerprint, parse_recipients

SIGNATURE_DOMAIN = b"casevoice-evidence-signature-v1\n"
# Crockford base32: no I, L, O or U, so a code read aloud or typed cannot be confused.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECEIPT_CHARS = 12


def seal(plaintext: bytes, recipients: Sequence[str]) -> bytes:
    """Encrypt to every recipient (age v1, X25519, binary): any one of them can open it."""
    parsed = [pyrage.x25519.Recipient.from_str(r) for r in parse_recipients(recipients)]
    try:
        sealed: bytes = pyrage.encrypt(plaintext, parsed)
    except pyrage.EncryptError as exc:
        raise EvidenceError(f"age encryption failed ({exc})") from exc
    return sealed


def unseal(sealed: bytes, identities: Sequence[Any], label: str) -> bytes:
    """Decrypt a sealed file; ``label`` names it in errors (a statement id, never content)."""
    try:
        plaintext: bytes = pyrage.decrypt(sealed, list(identities))
    except pyrage.DecryptError as exc:
        if "no matching keys" in str(exc).lower():
            raise WrongIdentityError(
                f"{label}: the identity given is not a recipient of this sealed file"
            ) from exc
        raise EvidenceError(f"{label}: the sealed file is damaged and cannot be opened") from exc
    return plaintext


def sign_document(document: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """A signature file over ``document`` (which must already name the signer's fingerprint)."""
    if document.get("signer") != fingerprint(key.public_key()):
        raise SignatureError("signature document names a different signer than the key")
    signature = key.sign(SIGNATURE_DOMAIN + canonical_json(document))
    envelope = {
        "algorithm": "ed25519",
        "document": document,
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return canonical_json(envelope) + b"\n"


def read_signed(data: bytes, public_key: Ed25519PublicKey, label: str) -> dict[str, Any]:
    """The verified document of a signature file, or SignatureError naming what is wrong."""
    envelope = load_json_object(data, SignatureError, f"{label}: signature file")
    document, encoded = envelope.get("document"), envelope.get("signature")
    if (
        not isinstance(document, dict)
        or not isinstance(encoded, str)
        or envelope.get("algorithm") != "ed25519"
    ):
        raise SignatureError(f"{label}: signature file is malformed")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise SignatureError(f"{label}: signature file is malformed") from exc
    if document.get("signer") != fingerprint(public_key):
        raise SignatureError(
            f"{label}: signed by another key ({printable(document.get('signer'), 80)})"
        )
    try:
        public_key.verify(signature, SIGNATURE_DOMAIN + canonical_json(document))
    except (InvalidSignature, ValueError, RecursionError) as exc:
        # ValueError: a document holding NaN has no canonical form; RecursionError: too deep
        raise SignatureError(f"{label}: signature invalid") from exc
    return document


def object_document(
    *,
    kind: str,
    case_ref: str,
    statement_id: str,
    object_key: str,
    sealed_sha256: str,
    signed_at: str,
    signer: str,
) -> dict[str, Any]:
    """The signature document of a sealed statement or a withdrawal notice.

    ``sealed_sha256`` is the SHA-256 of the signed object: the sealed file for a statement, the
    notice bytes for a withdrawal.
    """
    return {
        "version": FORMAT_VERSION,
        "kind": kind,
        "case_ref": case_ref,
        "statement_id": statement_id,
        "object_key": object_key,
        "sealed_sha256": sealed_sha256,
        "signed_at": signed_at,
        "signer": signer,
    }


def receipt_code(sealed_sha256: str) -> str:
    """A 12-character receipt (60 bits of the sealed file's hash) in groups: ``K7Q2-9XMD-3HFA``."""
    bits = int(sealed_sha256[:16], 16) >> 4  # the top 60 bits
    chars = [CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(_RECEIPT_CHARS))]
    code = "".join(chars)
    return "-".join(code[i : i + 4] for i in range(0, _RECEIPT_CHARS, 4))


def normalize_receipt_code(text: str) -> str:
    """Read a receipt as people type it: any case, spaces or dashes, O for 0, I/L for 1."""
    cleaned = text.upper().translate(str.maketrans("OIL", "011", " -"))
    if len(cleaned) != _RECEIPT_CHARS or any(c not in CROCKFORD for c in cleaned):
        raise ValueError("not a receipt code")
    return "-".join(cleaned[i : i + 4] for i in range(0, _RECEIPT_CHARS, 4))
