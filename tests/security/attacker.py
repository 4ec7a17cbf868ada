"""What an attacker with write access to the evidence store can do, done with the real code.

Everything here uses real keys, real age sealing and real files: the attacker knows the
reviewer's *public* key (it is public), can read and write every file of the store, and holds
Ed25519 keys of their own, but not the bot's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from review.cli import review_app
from storage.evidence import EvidenceWriter, LocalEvidenceStore, fingerprint, public_key_pem
from storage.evidence.common import canonical_json, iso_utc, sha256_hex, utc_now
from storage.evidence.keys import identity_file_text
from storage.evidence.ledger import LedgerEntry, make_entry, parse_ledger
from storage.evidence.ledger_format import head_document
from storage.evidence.package import pack
from storage.evidence.seal import object_document, seal, sign_document
from tests.unit.evidence.helpers import CASE, Reviewer, bundle

CONSOLE_SCRIPT = Path(sys.executable).with_name("casevoice")
FORGED_TEXT = "FORGED: he was never there"


def case_dir(store: LocalEvidenceStore, case_ref: str = CASE) -> Path:
    return store.root / case_ref


def last_entry(store: LocalEvidenceStore, case_ref: str = CASE) -> LedgerEntry | None:
    entries = parse_ledger((case_dir(store, case_ref) / "ledger.jsonl").read_bytes()).entries
    return entries[-1] if entries else None


def forged_sealed(reviewer: Reviewer, statement_id: str, text: str = FORGED_TEXT) -> bytes:
    """A fake statement sealed to the reviewer's public key: it decrypts fine."""
    return seal(pack(bundle(statement_id, text=text)), [reviewer.recipient])


def sign_as(
    key: Ed25519PrivateKey, kind: str, statement_id: str, data: bytes, case_ref: str = CASE
) -> bytes:
    """A signature document over ``data`` in the bot's format, but signed with ``key``."""
    suffix = ".age" if kind == "statement" else ".withdrawal.json"
    document = object_document(
        kind=kind,
        case_ref=case_ref,
        statement_id=statement_id,
        object_key=f"{case_ref}/{statement_id}{suffix}",
        sealed_sha256=sha256_hex(data),
        signed_at=iso_utc(utc_now()),
        signer=fingerprint(key.public_key()),
    )
    return sign_document(document, key)


def append_forged(
    store: LocalEvidenceStore,
    key: Ed25519PrivateKey,
    kind: str,
    statement_id: str,
    data: bytes,
    case_ref: str = CASE,
) -> LedgerEntry:
    """Plant an object, a signature by ``key`` and a chain-correct ledger line (no head)."""
    suffix = ".age" if kind == "statement" else ".withdrawal.json"
    sig_suffix = ".sig.json" if kind == "statement" else ".withdrawal.sig.json"
    folder = case_dir(store, case_ref)
    (folder / f"{statement_id}{suffix}").write_bytes(data)
    (folder / f"{statement_id}{sig_suffix}").write_bytes(
        sign_as(key, kind, statement_id, data, case_ref)
    )
    entry = make_entry(
        last_entry(store, case_ref),
        kind=kind,  # type: ignore[arg-type]
        case_ref=case_ref,
        statement_id=statement_id,
        object_key=f"{case_ref}/{statement_id}{suffix}",
        sealed_sha256=sha256_hex(data),
        at=iso_utc(utc_now()),
    )
    with (folder / "ledger.jsonl").open("ab") as ledger:
        ledger.write(entry.to_line())
    return entry


def notice(statement_id: str, reason: str = "participant-request", case_ref: str = CASE) -> bytes:
    return (
        canonical_json(
            {
                "version": 1,
                "kind": "withdrawal-notice",
                "case_ref": case_ref,
                "statement_id": statement_id,
                "reason_code": reason,
                "withdrawn_at": iso_utc(utc_now()),
            }
        )
        + b"\n"
    )


def resigned_store(root: Path, reviewer: Reviewer, statement_ids: list[str]) -> Ed25519PrivateKey:
    """A whole store made by the attacker with their own key: fake statements, valid chain,
    valid signatures and head, all sealed to the reviewer's public key."""
    key = Ed25519PrivateKey.generate()
    writer = EvidenceWriter(LocalEvidenceStore(root), key)
    for statement_id in statement_ids:
        writer.seal_statement(bundle(statement_id, text=FORGED_TEXT), [reviewer.recipient])
    return key


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes (to show nothing was written or deleted)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def identity_file(path: Path, reviewer: Reviewer) -> Path:
    path.write_text(identity_file_text(str(reviewer.identity), reviewer.recipient))
    path.chmod(0o600)
    return path


def casevoice(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The real console script, as a reviewer or administrator types it (raw bytes captured:
    a terminal escape sequence must be visible to the assertions)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEVOICE_")}
    environment.update(env or {})
    command = (
        [str(CONSOLE_SCRIPT)] if CONSOLE_SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
    )
    return subprocess.run(
        [*command, *args], env=environment, capture_output=True, timeout=120, check=False
    )


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: bytes
    stderr: bytes


def reviewer(*args: str) -> Ran:
    """``casevoice review …`` in this process (the same Typer app; no interpreter start-up)."""
    result = CliRunner().invoke(review_app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout_bytes, result.stderr_bytes)


def store_with_package(
    root: Path, key: Ed25519PrivateKey, reviewer_: Reviewer, statement_id: str, package: bytes
) -> None:
    """A complete store, signed with ``key``, holding one sealed package of the attacker's
    making (any bytes: a hostile tar) sealed to the reviewer."""
    store = LocalEvidenceStore(root)
    store.put_object("signer.pub", public_key_pem(key.public_key()))
    (root / CASE).mkdir(mode=0o700)
    data = seal(package, [reviewer_.recipient])
    (root / CASE / f"{statement_id}.age").write_bytes(data)
    (root / CASE / f"{statement_id}.sig.json").write_bytes(
        sign_as(key, "statement", statement_id, data)
    )
    entry = make_entry(
        None,
        kind="statement",
        case_ref=CASE,
        statement_id=statement_id,
        object_key=f"{CASE}/{statement_id}.age",
        sealed_sha256=sha256_hex(data),
        at=iso_utc(utc_now()),
    )
    (root / CASE / "ledger.jsonl").write_bytes(entry.to_line())
    head = head_document(CASE, entry, iso_utc(utc_now()), fingerprint(key.public_key()))
    (root / CASE / "ledger.head.json").write_bytes(sign_document(head, key))
