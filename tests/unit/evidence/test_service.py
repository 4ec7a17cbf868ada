from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.evidence import (
    EvidenceWriter,
    InvalidNameError,
    LocalEvidenceStore,
    ObjectNotFoundError,
    SecretKeyInConfigError,
    SigningKeyError,
    generate_identity,
)
from storage.evidence.common import sha256_hex
from storage.evidence.ledger import EvidenceLedger, check_chain, parse_ledger
from tests.unit.evidence.helpers import CASE, bundle, ledger_lines, new_reviewer, sealed_case


class Crash(Exception):
    pass


def _crash_once(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
    original = getattr(target, name)
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, crashing)


def test_seal_returns_a_receipt_and_is_idempotent(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, [])
    first = case.writer.seal_statement(bundle("s1"), [case.reviewer.recipient])
    again = case.writer.seal_statement(bundle("s1"), [case.reviewer.recipient])
    assert again == first
    assert first.ledger_seq == 1 and first.object_key == f"{CASE}/s1.age"
    assert first.sealed_sha256 == sha256_hex(case.store.get_object(first.object_key))
    assert len(first.receipt_code) == 14
    assert len(ledger_lines(case.store)) == 1


def test_crash_after_object_before_ledger_completes_without_duplicating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = sealed_case(tmp_path, [])
    _crash_once(monkeypatch, EvidenceLedger, "append")
    with pytest.raises(Crash):
        case.writer.seal_statement(bundle("s1"), [case.reviewer.recipient])
    sealed = case.store.get_object(f"{CASE}/s1.age")
    assert not case.store.exists(f"{CASE}/ledger.jsonl")

    result = case.writer.seal_statement(bundle("s1"), [case.reviewer.recipient])

    assert result.sealed_sha256 == sha256_hex(sealed)  # the existing object, not a re-seal
    assert case.store.get_object(f"{CASE}/s1.age") == sealed
    assert len(ledger_lines(case.store)) == 1
    assert case.writer.seal_statement(bundle("s1"), [case.reviewer.recipient]) == result


def test_crash_before_signature_signs_the_existing_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = sealed_case(tmp_path, [])
    _crash_once(monkeypatch, EvidenceWriter, "_ensure_signature")
    with pytest.raises(Crash):
        case.writer.seal_statement(bundle("s1"), [case.reviewer.recipient])
    assert not case.store.exists(f"{CASE}/s1.sig.json")
    result = case.writer.seal_statement(bundle("s1"), [case.reviewer.recipient])
    assert case.store.exists(f"{CASE}/s1.sig.json") and result.ledger_seq == 1


def test_crash_between_ledger_line_and_head_is_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = sealed_case(tmp_path, ["s1"])
    _crash_once(monkeypatch, EvidenceLedger, "write_head")
    with pytest.raises(Crash):
        case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])
    assert len(ledger_lines(case.store)) == 2

    result = case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])

    assert result.ledger_seq == 2 and len(ledger_lines(case.store)) == 2
    head = case.store.get_object(f"{CASE}/ledger.head.json")
    assert b'"seq":2' in head


def test_withdrawal_is_signed_recorded_and_idempotent(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1"])
    at = datetime(2024, 8, 1, tzinfo=UTC)
    first = case.writer.write_withdrawal(CASE, "s1", "participant-request", at)
    assert case.writer.write_withdrawal(CASE, "s1", "participant-request", at) == first
    assert first.ledger_seq == 2 and first.object_key == f"{CASE}/s1.withdrawal.json"
    assert case.store.exists(f"{CASE}/s1.withdrawal.sig.json")
    notice = case.store.get_object(first.object_key)
    assert b'"reason_code":"participant-request"' in notice and b"What I saw" not in notice


def test_withdrawal_of_an_unknown_statement_or_with_free_text_is_refused(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1"])
    with pytest.raises(ObjectNotFoundError):
        case.writer.write_withdrawal(CASE, "never-sealed", "participant-request")
    with pytest.raises(InvalidNameError):
        case.writer.write_withdrawal(CASE, "s1", "Because my ex-partner reads my phone")


def test_a_store_pinned_to_another_signing_key_is_refused(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1"])
    intruder = EvidenceWriter(case.store, Ed25519PrivateKey.generate())
    with pytest.raises(SigningKeyError, match="pinned to another"):
        intruder.seal_statement(bundle("s2"), [case.reviewer.recipient])
    assert not case.store.exists(f"{CASE}/s2.age")


def test_a_secret_key_among_recipients_is_refused_and_nothing_written(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path / "store")
    writer = EvidenceWriter(store, Ed25519PrivateKey.generate())
    secret, recipient = generate_identity()
    with pytest.raises(SecretKeyInConfigError):
        writer.seal_statement(bundle("s1"), [recipient, secret])
    assert store.list() == []


def test_path_traversal_in_bundle_case_ref_is_refused(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", [])
    with pytest.raises(InvalidNameError):
        case.writer.seal_statement(bundle("s1", case_ref="../outside"), [case.reviewer.recipient])
    assert not (tmp_path / "outside").exists()


def test_concurrent_writers_do_not_interleave(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, [])
    reviewer = new_reviewer()
    writers = [EvidenceWriter(LocalEvidenceStore(tmp_path), case.key) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(
                lambda i: writers[i % 4].seal_statement(bundle(f"s{i}"), [reviewer.recipient]),
                range(12),
            )
        )
    entries = parse_ledger(b"".join(ledger_lines(case.store))).entries
    assert check_chain(entries, CASE) == []
    assert sorted(r.ledger_seq for r in results) == list(range(1, 13))
