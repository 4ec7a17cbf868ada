"""Errors of the evidence store: sealing, signatures, the ledger and the reviewer's identity.

``str(exc)`` names ids, object keys and reasons only; it never carries statement content or a
secret key. ``user_message`` is a plain sentence safe to show a participant or reviewer.
"""

from __future__ import annotations

from storage.errors import CaseVoiceError


class EvidenceError(CaseVoiceError):
    """Anything that stops a statement being sealed, stored, verified or pulled."""

    user_message = "The evidence store could not complete that. Nothing was lost."


class BadRecipientError(EvidenceError):
    """A reviewer recipient is not a valid age X25519 public key (``age1…``)."""

    user_message = "That reviewer key is not a valid age public key (it should start with age1)."


class SecretKeyInConfigError(EvidenceError):
    """A reviewer's private key (``AGE-SECRET-KEY-1…``) was found where only public keys belong."""

    user_message = (
        "A reviewer's private key was found in the bot's configuration. Remove it: the bot only "
        "ever needs the reviewer's public key (age1…)."
    )


class IdentityFileError(EvidenceError):
    """The reviewer's identity file is missing, unreadable or malformed."""

    user_message = "The identity file could not be read as an age identity."


class WrongIdentityError(EvidenceError):
    """The reviewer's identity is not among the recipients a statement was sealed to."""

    user_message = "Your identity is not one of the keys this statement was sealed to."


class SigningKeyError(EvidenceError):
    """The bot's Ed25519 signing key is missing, unreadable, too open, or not the pinned key."""

    user_message = "The bot's signing key is unavailable, so nothing is being sealed."


class SignatureError(EvidenceError):
    """A signature document is malformed, does not verify, or names the wrong object."""

    user_message = "A signature on the evidence does not verify."


class LedgerError(EvidenceError):
    """The evidence ledger is broken (hash chain, order, head) and is not appended to."""

    user_message = "The evidence ledger failed its integrity check."


class PackageError(EvidenceError):
    """A statement package (tar) is unsafe or malformed."""

    user_message = "A statement package is malformed and was not opened."


class InvalidNameError(EvidenceError):
    """A case ref, statement id, object key or file name is outside the safe charset."""

    user_message = "That reference contains characters that are not allowed."


class ObjectExistsError(EvidenceError):
    """An object already exists with different bytes: the store is append-only."""

    user_message = "That evidence already exists and cannot be replaced."


class ObjectNotFoundError(EvidenceError):
    """An object the ledger or a caller expects is not in the store."""

    user_message = "That evidence could not be found."


class VerificationFailedError(EvidenceError):
    """A case failed verification badly enough that nothing can be trusted or exported."""

    user_message = "The case's evidence failed verification; nothing was exported."


class UntrustedSignerError(EvidenceError):
    """The reviewer has not said which bot key to trust, or the store's signer is not that key."""

    user_message = (
        "The bot's signing key is not the one you trust. Ask the case administrator for the "
        "signer fingerprint (casevoice case show) and pass it with --trusted-signer."
    )
