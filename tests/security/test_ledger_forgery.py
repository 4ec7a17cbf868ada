"""Finding 2: unsigned ledger lines never act, and the bot never signs what it did not write.

The attacker appends chain-correct lines (the chain is plain SHA-256: anyone can extend it), with
objects sealed to the reviewer's public key and signed by a key of their own, reorders lines,
forges withdrawals and notices, and plants sealed objects for the bot to pick up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from review.pull import CaseVerificationError, pull_case
from review.verify import verify_case
from storage.evidence import LedgerError, SignatureError
from storage.evidence.common import sha256_hex
from tests.security.attacker import (
    FORGED_TEXT,
    append_forged,
    case_dir,
    casevoice,
    forged_sealed,
    identity_file,
    notice,
    sign_as,
    tree,
)
from tests.unit.evidence.helpers import (
    CASE,
    Sealed,
    bundle,
    ledger_lines,
    sealed_case,
    write_ledger_lines,
)


def _errors(report: object) -> list[str]:
    return [p.message for p in report.problems if p.severity == "error"]  # type: ignore[attr-defined]


def test_a_forged_statement_past_the_head_is_never_counted_and_never_signed(
    tmp_path: Path,
) -> None:
    # Given a sealed case and an attacker who appends a fake statement with a valid chain link
    case = sealed_case(tmp_path / "store", ["s1"])
    attacker = Ed25519PrivateKey.generate()
    append_forged(case.store, attacker, "statement", "s9", forged_sealed(case.reviewer, "s9"))
    head = case_dir(case.store) / "ledger.head.json"
    before = tree(case.store.root)

    # Then the reviewer's verify names it and never counts it; pull writes nothing
    report = verify_case(case.store, CASE, case.trust)
    assert [s.statement_id for s in report.statements] == ["s1"]
    assert any("past the signed head" in e and "not the bot's own" in e for e in _errors(report))
    with pytest.raises(CaseVerificationError, match="nothing was written"):
        pull_case(case.store, CASE, [case.reviewer.identity], tmp_path / "out", signer=case.signer)
    assert not (tmp_path / "out").exists()

    # And the bot's recovery, run before its next seal, refuses to sign over it
    with pytest.raises(LedgerError, match="ledger entry 2 .*not the bot's own"):
        case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])
    assert tree(case.store.root) == before and head.exists()


def test_reordered_ledger_lines_stop_the_reviewer_and_the_bot(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2", "s3"])
    lines = ledger_lines(case.store)
    write_ledger_lines(case.store, [lines[0], lines[2], lines[1]])

    assert "entries reordered: entry 2 appears after 3" in _errors(
        verify_case(case.store, CASE, case.trust)
    )
    with pytest.raises(CaseVerificationError, match="entries reordered"):
        pull_case(case.store, CASE, [case.reviewer.identity], tmp_path / "out", signer=case.signer)
    assert not (tmp_path / "out").exists()
    with pytest.raises(LedgerError, match="reordered"):
        case.writer.seal_statement(bundle("s4"), [case.reviewer.recipient])


def test_a_forged_withdrawal_line_deletes_nothing_and_pull_exits_non_zero(tmp_path: Path) -> None:
    # Given a statement the reviewer has already pulled (the real CLI, pinned signer)
    case = sealed_case(tmp_path / "store", ["s1"])
    identity = identity_file(tmp_path / "id.txt", case.reviewer)
    out = tmp_path / "out"
    args = ["review", "pull", CASE, "--identity", str(identity), "--out", str(out)]
    args += ["--store", str(case.store.root)]
    first = casevoice(*args, "--trusted-signer", case.fingerprint)
    assert first.returncode == 0, first.stderr
    pulled = tree(out)
    assert "s1/statement.md" in pulled

    # When an attacker appends a withdrawal of it (notice signed with their own key)
    attacker = Ed25519PrivateKey.generate()
    append_forged(case.store, attacker, "withdrawal", "s1", notice("s1"))
    head = (case_dir(case.store) / "ledger.head.json").read_bytes()

    # Then the next pull exits non-zero and the verified copy is still there, byte for byte
    again = casevoice(*args)
    assert again.returncode != 0
    assert b"past the signed head" in again.stderr and b"nothing was written" in again.stderr
    assert tree(out) == pulled

    # And the bot does not cover the forged line with its signature
    with pytest.raises(LedgerError, match="not the bot's own"):
        case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])
    assert (case_dir(case.store) / "ledger.head.json").read_bytes() == head


@pytest.mark.parametrize("forgery", ["notice-bytes", "notice-and-signature"])
def test_a_forged_notice_withdraws_nothing(tmp_path: Path, forgery: str) -> None:
    # Given a genuine withdrawal of s2 after s1 and s2 were pulled
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    out = tmp_path / "out"
    pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)
    case.writer.write_withdrawal(CASE, "s2", "participant-request")
    pulled = tree(out)

    # When the attacker rewrites its notice to withdraw s1 instead (and re-signs it themselves)
    folder = case_dir(case.store)
    forged = notice("s1", "coerced")
    (folder / "s2.withdrawal.json").write_bytes(forged)
    if forgery == "notice-and-signature":
        attacker = Ed25519PrivateKey.generate()  # without the bot's key, only their own
        (folder / "s2.withdrawal.sig.json").write_bytes(
            sign_as(attacker, "withdrawal", "s2", forged)
        )

    # Then nothing is withdrawn on its word, and the pull changes nothing
    report = verify_case(case.store, CASE, case.trust)
    assert not report.ok
    assert [s.withdrawn for s in report.statements] == [False, False]
    with pytest.raises(CaseVerificationError):
        pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)
    assert tree(out) == pulled


def _crashed_before_the_head(tmp_path: Path) -> tuple[Sealed, Path, bytes]:
    """s2's object, signature and ledger line written; the head still signed at s1."""
    case = sealed_case(tmp_path / "store", ["s1"])
    head = case_dir(case.store) / "ledger.head.json"
    signed_at_one = head.read_bytes()
    case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])
    head.write_bytes(signed_at_one)
    return case, head, signed_at_one


def test_two_entries_past_the_head_are_refused_even_if_the_first_is_genuine(
    tmp_path: Path,
) -> None:
    # Given the bot crashed after appending s2 (its line and signed object are genuine) …
    case, head, signed_at_one = _crashed_before_the_head(tmp_path)

    # … and an attacker added a forged line after it
    append_forged(
        case.store,
        Ed25519PrivateKey.generate(),
        "statement",
        "s9",
        forged_sealed(case.reviewer, "s9"),
    )

    with pytest.raises(LedgerError, match="entries 2-3 are past the signed head"):
        case.writer.recover(CASE)
    assert head.read_bytes() == signed_at_one


def test_one_genuine_interrupted_append_is_still_completed(tmp_path: Path) -> None:
    """The control: the rule refuses forgeries, not the crash it exists for."""
    case, _, _ = _crashed_before_the_head(tmp_path)

    report = verify_case(case.store, CASE, case.trust)
    assert report.ok and [s.statement_id for s in report.statements] == ["s1"]  # s2 not counted
    assert case.writer.recover(CASE).head_rewritten
    report = verify_case(case.store, CASE, case.trust)
    assert report.ok and report.head_seq == 2 and report.problems == []


def test_the_bot_never_signs_a_planted_sealed_object(tmp_path: Path) -> None:
    # Given an attacker who plants s2.age (sealed to the reviewer) before the bot seals s2
    case = sealed_case(tmp_path / "store", ["s1"])
    planted = forged_sealed(case.reviewer, "s2")
    (case_dir(case.store) / "s2.age").write_bytes(planted)

    # When the bot seals s2, it seals afresh: its signature covers its own bytes
    result = case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])
    assert result.sealed_sha256 != sha256_hex(planted)
    out = tmp_path / "out"
    pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)
    assert FORGED_TEXT not in (out / "s2" / "statement.md").read_text()

    # And a planted object with a signature by another key is refused, not adopted
    planted = forged_sealed(case.reviewer, "s3")
    (case_dir(case.store) / "s3.age").write_bytes(planted)
    attacker = Ed25519PrivateKey.generate()
    (case_dir(case.store) / "s3.sig.json").write_bytes(
        sign_as(attacker, "statement", "s3", planted)
    )
    with pytest.raises(SignatureError, match="signed by another key"):
        case.writer.seal_statement(bundle("s3"), [case.reviewer.recipient])
    assert len(ledger_lines(case.store)) == 2
