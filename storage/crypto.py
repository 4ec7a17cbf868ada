"""Envelope encryption primitives: field ciphertexts, data keys, keyed hashes.

A *data key* (DEK) protects one interview (or one case's metadata). It is stored only wrapped
by a *key-encryption key* (KEK) that lives outside the database (see ``storage.keyfile``).

Every field ciphertext starts with a header: magic ``CVF``, a version byte and the DEK id. The
header and the field's address (table, record id, field name) are bound in as associated data, so
a ciphertext copied into another row or column, or altered by one bit, fails with
``DecryptionError`` instead of yielding someone else's answer.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.errors import DecryptionError

MAGIC = b"CVF"
VERSION = 1
_KEY_ID_LEN = 16
_NONCE_LEN = 12
HEADER_LEN = len(MAGIC) + 1 + _KEY_ID_LEN
KEY_LEN = 32


@dataclass(frozen=True)
class FieldRef:
    """Where a ciphertext belongs. Bound into the AEAD so it cannot be moved."""

    table: str
    record_id: str
    field: str

    def __post_init__(self) -> None:
        # The parts are joined with "|": a part containing "|" could pose as another address.
        for part in (self.table, self.record_id, self.field):
            if not part or "|" in part:
                raise ValueError("a field address part is non-empty and has no '|'")

    def aad(self) -> bytes:
        return f"{self.table}|{self.record_id}|{self.field}".encode()


@dataclass(frozen=True)
class DataKey:
    """An unwrapped data key, alive in memory only. ``repr`` never shows the key."""

    key_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) != KEY_LEN:
            raise ValueError("a data key is 32 bytes")
        if len(bytes.fromhex(self.key_id)) != _KEY_ID_LEN:
            raise ValueError("a data key id is 16 bytes of hex")

    @classmethod
    def generate(cls) -> DataKey:
        return cls(key_id=uuid.uuid4().hex, key=AESGCM.generate_key(bit_length=256))


def key_id_of(ciphertext: bytes) -> str:
    """The DEK id a field ciphertext was sealed under (header only, no decryption)."""
    if len(ciphertext) < HEADER_LEN + _NONCE_LEN + 16 or ciphertext[:3] != MAGIC:
        raise DecryptionError("not a CaseVoice field ciphertext")
    if ciphertext[3] != VERSION:
        raise DecryptionError(f"unsupported field ciphertext version {ciphertext[3]}")
    return ciphertext[4:HEADER_LEN].hex()


class FieldCipher:
    """AES-256-GCM for one field value, bound to its record."""

    @staticmethod
    def encrypt(key: DataKey, plaintext: bytes, ref: FieldRef) -> bytes:
        header = MAGIC + bytes([VERSION]) + bytes.fromhex(key.key_id)
        nonce = os.urandom(_NONCE_LEN)
        sealed = AESGCM(key.key).encrypt(nonce, plaintext, header + ref.aad())
        return header + nonce + sealed

    @staticmethod
    def decrypt(key: DataKey, ciphertext: bytes, ref: FieldRef) -> bytes:
        if key_id_of(ciphertext) != key.key_id:
            raise DecryptionError(f"{ref.table}.{ref.field} of {ref.record_id}: wrong data key")
        header = ciphertext[:HEADER_LEN]
        nonce = ciphertext[HEADER_LEN : HEADER_LEN + _NONCE_LEN]
        try:
            return AESGCM(key.key).decrypt(
                nonce, ciphertext[HEADER_LEN + _NONCE_LEN :], header + ref.aad()
            )
        except InvalidTag:
            raise DecryptionError(
                f"{ref.table}.{ref.field} of {ref.record_id}: altered or not this record's"
            ) from None

    @classmethod
    def encrypt_text(cls, key: DataKey, text: str, ref: FieldRef) -> bytes:
        return cls.encrypt(key, text.encode("utf-8"), ref)

    @classmethod
    def decrypt_text(cls, key: DataKey, ciphertext: bytes, ref: FieldRef) -> str:
        return cls.decrypt(key, ciphertext, ref).decode("utf-8")


def _wrap_aad(key_id: str, kek_id: str) -> bytes:
    return f"casevoice-dek|{key_id}|{kek_id}".encode()


def wrap_key(kek_id: str, kek: bytes, dek: DataKey) -> bytes:
    """Seal a DEK under a KEK; the result is nonce ‖ ciphertext ‖ tag."""
    nonce = os.urandom(_NONCE_LEN)
    return nonce + AESGCM(kek).encrypt(nonce, dek.key, _wrap_aad(dek.key_id, kek_id))


def unwrap_key(kek_id: str, kek: bytes, key_id: str, wrapped: bytes) -> DataKey:
    try:
        raw = AESGCM(kek).decrypt(
            wrapped[:_NONCE_LEN], wrapped[_NONCE_LEN:], _wrap_aad(key_id, kek_id)
        )
    except InvalidTag:
        raise DecryptionError(f"data key {key_id}: wrapped key altered or wrong KEK") from None
    return DataKey(key_id=key_id, key=raw)


def keyed_hash(hmac_key: bytes, purpose: str, value: str | int) -> str:
    """A stable pseudonymous hash, e.g. of a Telegram user id. Purpose separates domains."""
    message = f"{purpose}|{value}".encode()
    return hmac.new(hmac_key, message, hashlib.sha256).hexdigest()


def derive_key(root: bytes, purpose: str) -> bytes:
    """A sub-key for one purpose (audit chain, invite hashes) from a root secret."""
    return hmac.new(root, f"casevoice-derive|{purpose}".encode(), hashlib.sha256).digest()
