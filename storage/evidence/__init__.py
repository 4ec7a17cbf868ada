"""The reviewer's evidence store: sealing (age), signatures (Ed25519), the hash-chained ledger.

The bot side uses ``EvidenceWriter``; the reviewer's side (``review``) reads with the same
layout, parsing and verification helpers. Nothing here imports aiogram or the bot.
"""

from storage.evidence.errors import (
    BadRecipientError,
    EvidenceError,
    IdentityFileError,
    InvalidNameError,
    LedgerError,
    ObjectExistsError,
    ObjectNotFoundError,
    PackageError,
    SecretKeyInConfigError,
    SignatureError,
    SigningKeyError,
    VerificationFailedError,
    WrongIdentityError,
)
from storage.evidence.keys import (
    fingerprint,
    generate_identity,
    generate_signing_key,
    load_identities,
    load_public_key,
    load_signing_key,
    parse_recipient,
    parse_recipients,
    public_key_b64,
    public_key_pem,
    refuse_secret_key,
    write_identity_file,
)
from storage.evidence.package import StatementBundle
from storage.evidence.seal import normalize_receipt_code, receipt_code
from storage.evidence.service import EvidenceWriter, SealResult, WithdrawalResult
from storage.evidence.store import EvidenceStore, LocalEvidenceStore

__all__ = [
    "BadRecipientError",
    "EvidenceError",
    "EvidenceStore",
    "EvidenceWriter",
    "IdentityFileError",
    "InvalidNameError",
    "LedgerError",
    "LocalEvidenceStore",
    "ObjectExistsError",
    "ObjectNotFoundError",
    "PackageError",
    "SealResult",
    "SecretKeyInConfigError",
    "SignatureError",
    "SigningKeyError",
    "StatementBundle",
    "VerificationFailedError",
    "WithdrawalResult",
    "WrongIdentityError",
    "fingerprint",
    "generate_identity",
    "generate_signing_key",
    "load_identities",
    "load_public_key",
    "load_signing_key",
    "normalize_receipt_code",
    "parse_recipient",
    "parse_recipients",
    "public_key_b64",
    "public_key_pem",
    "receipt_code",
    "refuse_secret_key",
    "write_identity_file",
]
