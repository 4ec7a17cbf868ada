"""EvidenceWriter: seal a consented statement (or a withdrawal) into the reviewer's store.

Blocking (file I/O, encryption): call it off the event loop, e.g. ``asyncio.to_thread``.

Every operation takes the case's writer lock, repairs any half-finished earlier append, and is
idempotent per statement id: a retry after a crash completes the earlier attempt instead of
adding a second ledger entry. The bot never signs bytes it cannot vouch for: a sealed object
left by an earlier attempt is reused only when the bot's own signature already covers it (a
crash after signing); an object without that signature may have been planted by anyone who can
write the store, so it is sealed afresh and replaced before anything is signed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.evidence.common import (
    FORMAT_VERSION,
    REASON_CODE_RE,
    canonical_json,
    check_ref,
    iso_utc,
    sha256_hex,
    utc_now,
)
from storage.evidence.errors import (
    InvalidNameError,
    ObjectExistsError,
    ObjectNotFoundError,
    SignatureError,
    SigningKeyError,
)
from storage.evidence.keys import fingerprint, parse_recipients, public_key_pem
from storage.evidence.layout import (
    SIGNER_KEY,
    Kind,
    object_key,
    sig_key,
)
from storage.evidence.ledger import EvidenceLedger, LedgerEntry, RecoveryReport
from storage.evidence.package import StatementBundle, pack
from storage.evidence.seal import object_document, read_signed, receipt_code, seal, sign_document
from storage.evidence.store import EvidenceStore


@dataclass(frozen=True)
class SealResult:
    statement_id: str
    case_ref: str
    object_key: str
    sealed_sha256: str
    receipt_code: str
    ledger_seq: int


@dataclass(frozen=True)
class WithdrawalResult:
    statement_id: str
    case_ref: str
    object_key: str
    notice_sha256: str
    ledger_seq: int


class EvidenceWriter:
    """The bot's only way into the evidence store."""

    def __init__(
        self,
        store: EvidenceStore,
        signing_key: Ed25519PrivateKey,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._key = signing_key
        self._clock = clock
        self._fingerprint = fingerprint(signing_key.public_key())

    def pin_signer(self) -> None:
        """Publish the bot's public key as ``signer.pub`` once; refuse a store pinned to another."""
        try:
            self._store.put_object(SIGNER_KEY, public_key_pem(self._key.public_key()))
        except ObjectExistsError:
            raise SigningKeyError(
                f"the evidence store is pinned to another signing key (this key is "
                f"{self._fingerprint}); refusing to sign into it"
            ) from None

    def seal_statement(self, bundle: StatementBundle, recipients: Sequence[str]) -> SealResult:
        """Seal ``bundle`` to every recipient, sign it, record it in the ledger; idempotent."""
        parsed = parse_recipients(recipients)
        entry = self._commit(
            "statement",
            bundle.case_ref,
            bundle.statement_id,
            lambda: seal(pack(bundle), parsed),
        )
        return SealResult(
            statement_id=entry.statement_id,
            case_ref=entry.case_ref,
            object_key=entry.object_key,
            sealed_sha256=entry.sealed_sha256,
            receipt_code=receipt_code(entry.sealed_sha256),
            ledger_seq=entry.seq,
        )

    def write_withdrawal(
        self, case_ref: str, statement_id: str, reason_code: str, at: datetime | None = None
    ) -> WithdrawalResult:
        """Record that a sealed statement was withdrawn: a signed notice (no content) + entry."""
        if not REASON_CODE_RE.fullmatch(reason_code):
            raise InvalidNameError(f"withdrawal reason code {reason_code!r:.60} is not allowed")
        withdrawn_at = iso_utc(at or self._clock())
        notice = {
            "version": FORMAT_VERSION,
            "kind": "withdrawal-notice",
            "case_ref": case_ref,
            "statement_id": statement_id,
            "reason_code": reason_code,
            "withdrawn_at": withdrawn_at,
        }
        entry = self._commit(
            "withdrawal", case_ref, statement_id, lambda: canonical_json(notice) + b"\n"
        )
        return WithdrawalResult(
            statement_id=entry.statement_id,
            case_ref=entry.case_ref,
            object_key=entry.object_key,
            notice_sha256=entry.sealed_sha256,
            ledger_seq=entry.seq,
        )

    def recover(self, case_ref: str) -> RecoveryReport:
        """Make a case's ledger consistent after a crash (torn line, stale head)."""
        with self._store.lock(check_ref(case_ref)):
            return EvidenceLedger(self._store, case_ref, self._key, self._clock).recover()

    def _commit(
        self, kind: Kind, case_ref: str, statement_id: str, make_object: Callable[[], bytes]
    ) -> LedgerEntry:
        key = object_key(kind, case_ref, statement_id)  # validates case ref and statement id
        self.pin_signer()
        with self._store.lock(case_ref):
            ledger = EvidenceLedger(self._store, case_ref, self._key, self._clock)
            ledger.recover()
            entries = ledger.entries()
            for entry in entries:
                if entry.kind == kind and entry.statement_id == statement_id:
                    return entry  # already committed: the same result, no second entry
            if kind == "withdrawal" and not any(
                e.kind == "statement" and e.statement_id == statement_id for e in entries
            ):
                raise ObjectNotFoundError(
                    f"statement {statement_id} was never sealed in case {case_ref}"
                )
            if self._store.exists(key) and self._store.exists(sig_key(key)):
                data = self._store.get_object(key)  # signed by an interrupted attempt: reuse it
            else:
                data = make_object()
                if self._store.exists(key):
                    self._store.replace_object(key, data)  # unsigned: not evidence yet
                else:
                    self._store.put_object(key, data)
            digest = sha256_hex(data)
            self._ensure_signature(kind, case_ref, statement_id, key, digest)
            return ledger.append(
                entries,
                kind=kind,
                statement_id=statement_id,
                object_key=key,
                sealed_sha256=digest,
            )

    def _ensure_signature(
        self, kind: Kind, case_ref: str, statement_id: str, key: str, digest: str
    ) -> None:
        signature_key = sig_key(key)
        if self._store.exists(signature_key):
            label = f"{kind} {statement_id}"
            document = read_signed(
                self._store.get_object(signature_key), self._key.public_key(), label
            )
            if (document.get("sealed_sha256"), document.get("object_key")) != (digest, key):
                raise SignatureError(f"{label}: existing signature does not match the object")
            return
        document = object_document(
            kind=kind,
            case_ref=case_ref,
            statement_id=statement_id,
            object_key=key,
            sealed_sha256=digest,
            signed_at=iso_utc(self._clock()),
            signer=self._fingerprint,
        )
        self._store.put_object(signature_key, sign_document(document, self._key))
