from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from review.trust import Trust, TrustedSigner
from review.verify import VerifyReport, verify_case
from storage.evidence import fingerprint
from tests.unit.evidence.helpers import CASE, ledger_lines, sealed_case, write_ledger_lines


def _errors(report: VerifyReport) -> list[str]:
    return [p.message for p in report.problems if p.severity == "error"]


def test_an_untouched_case_verifies(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2"])
    case.writer.write_withdrawal(CASE, "s2", "participant-request")
    report = verify_case(case.store, CASE, case.trust)
    assert report.ok and report.problems == []
    assert report.head_seq == 3 and report.ledger_entries == 3
    assert [s.statement_id for s in report.statements] == ["s1", "s2"]
    assert [s.withdrawn for s in report.statements] == [False, True]
    assert report.statements[1].withdrawal_reason == "participant-request"


def test_a_flipped_byte_in_a_sealed_file_is_named(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2"])
    path = tmp_path / CASE / "s2.age"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_case(case.store, CASE, case.trust)
    assert _errors(report) == ["statement s2: sealed file modified (sha256 mismatch)"]
    assert report.case_ok and not report.ok
    assert [s.ok for s in report.statements] == [True, False]


def test_a_swapped_signature_is_named(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2"])
    (tmp_path / CASE / "s2.sig.json").write_bytes((tmp_path / CASE / "s1.sig.json").read_bytes())
    report = verify_case(case.store, CASE, case.trust)
    assert _errors(report) == [
        "statement s2: signature belongs to statement s1 (swapped signature)"
    ]


def test_an_invalid_signature_is_named(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1"])
    path = tmp_path / CASE / "s1.sig.json"
    path.write_bytes(path.read_bytes().replace(b'"signed_at":"2', b'"signed_at":"1'))
    assert _errors(verify_case(case.store, CASE, case.trust)) == ["statement s1: signature invalid"]


def test_a_removed_ledger_entry_is_named(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2", "s3"])
    lines = ledger_lines(case.store)
    write_ledger_lines(case.store, [lines[0], lines[2]])
    errors = _errors(verify_case(case.store, CASE, case.trust))
    assert "entry 2 missing (seq gap 1→3)" in errors


def test_a_removed_last_entry_is_caught_by_the_signed_head(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2", "s3"])
    write_ledger_lines(case.store, ledger_lines(case.store)[:2])
    errors = _errors(verify_case(case.store, CASE, case.trust))
    assert errors[0] == (
        "ledger head is signed at seq 3 but the ledger ends at seq 2: entries removed from the end"
    )


def test_reordered_ledger_entries_are_named(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2", "s3"])
    lines = ledger_lines(case.store)
    write_ledger_lines(case.store, [lines[0], lines[2], lines[1]])
    assert _errors(verify_case(case.store, CASE, case.trust)) == [
        "entries reordered: entry 2 appears after 3"
    ]


def test_a_changed_signer_is_reported(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1"])
    trusted = Ed25519PrivateKey.generate().public_key()
    signer = TrustedSigner(fingerprint(trusted), trusted)
    errors = _errors(verify_case(case.store, CASE, Trust.pinned(signer)))
    assert errors[0].startswith("signer key changed: signer.pub in the store is ed25519:")
    assert any(e.startswith("ledger head: signed by another key") for e in errors)
    assert any(e.startswith("statement s1: signed by another key") for e in errors)


def test_an_object_without_ledger_entry_is_reported(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1"])
    case.store.put_object(f"{CASE}/planted.age", b"age-encryption.org/v1\n")
    report = verify_case(case.store, CASE, case.trust)
    assert report.ok  # a warning: it is simply not evidence
    assert [p.message for p in report.problems] == [
        f"object {CASE}/planted.age has no ledger entry (an interrupted seal?): not exported"
    ]


def test_an_unknown_case_is_an_error(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1"])
    assert _errors(verify_case(case.store, "no-such-case", case.trust)) == [
        "case no-such-case is not in the evidence store"
    ]
