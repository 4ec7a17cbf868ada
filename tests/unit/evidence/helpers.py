"""Builders shared by the evidence and review tests: real keys, a real store, real sealing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyrage
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from review.trust import Trust, TrustedSigner
from storage.evidence import EvidenceWriter, LocalEvidenceStore, StatementBundle, fingerprint

CASE = "case-2024-07"
SUBMITTED = datetime(2024, 7, 1, 10, 30, tzinfo=UTC)


@dataclass
class Reviewer:
    identity: Any
    recipient: str


def new_reviewer() -> Reviewer:
    identity = pyrage.x25519.Identity.generate()
    return Reviewer(identity, str(identity.to_public()))


def bundle(statement_id: str, case_ref: str = CASE, *, text: str = "What I saw") -> StatementBundle:
    return StatementBundle(
        statement_id=statement_id,
        case_ref=case_ref,
        files={
            "statement.json": json.dumps({"answers": [text]}).encode(),
            "statement.md": f"# Statement\n\n{text}\n".encode(),
            "audio/01.ogg": b"OggS fake audio " + statement_id.encode(),
        },
        role="professional",
        submitted_at=SUBMITTED,
        script_ref="learning-together@abc123",
    )


@dataclass
class Sealed:
    store: LocalEvidenceStore
    writer: EvidenceWriter
    key: Ed25519PrivateKey
    reviewer: Reviewer

    @property
    def fingerprint(self) -> str:
        """The bot's signer fingerprint, as the case administrator hands it to the reviewer."""
        return fingerprint(self.key.public_key())

    @property
    def signer(self) -> TrustedSigner:
        return TrustedSigner(self.fingerprint)

    @property
    def trust(self) -> Trust:
        return Trust.pinned(self.fingerprint)


def sealed_case(root: Path, statement_ids: list[str], reviewer: Reviewer | None = None) -> Sealed:
    key = Ed25519PrivateKey.generate()
    reviewer = reviewer or new_reviewer()
    store = LocalEvidenceStore(root)
    writer = EvidenceWriter(store, key)
    for statement_id in statement_ids:
        writer.seal_statement(bundle(statement_id), [reviewer.recipient])
    return Sealed(store, writer, key, reviewer)


def ledger_lines(store: LocalEvidenceStore, case_ref: str = CASE) -> list[bytes]:
    return (store.root / case_ref / "ledger.jsonl").read_bytes().splitlines(keepends=True)


def write_ledger_lines(store: LocalEvidenceStore, lines: list[bytes], case_ref: str = CASE) -> None:
    (store.root / case_ref / "ledger.jsonl").write_bytes(b"".join(lines))
