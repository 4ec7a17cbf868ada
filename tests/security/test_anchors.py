"""Finding 4: a missing or rolled-back anchor fails closed.

The attacker deletes the ledger head (or empties the ledger with it), deletes the audit head file
together with the newest audit events, or restores an older, validly signed copy of the store.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pyrage
import pytest

from review.pull import CaseVerificationError, pull_case
from review.trust import PIN_FILE
from review.verify import verify_case
from storage.evidence import LedgerError
from tests.security.attacker import case_dir, casevoice, reviewer, tree
from tests.unit.evidence.helpers import CASE, bundle, sealed_case


def _errors(report: object) -> list[str]:
    return [p.message for p in report.problems if p.severity == "error"]  # type: ignore[attr-defined]


def test_a_missing_ledger_head_is_an_error_for_the_reviewer_and_the_bot(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    (case_dir(case.store) / "ledger.head.json").unlink()

    assert _errors(verify_case(case.store, CASE, case.trust)) == [
        "ledger head (ledger.head.json) is missing: nothing in the case is anchored"
    ]
    with pytest.raises(CaseVerificationError):
        pull_case(case.store, CASE, [case.reviewer.identity], tmp_path / "out", signer=case.signer)
    assert not (tmp_path / "out").exists()
    with pytest.raises(LedgerError, match="head is missing while the ledger holds 1 entries"):
        case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])
    assert not (case_dir(case.store) / "ledger.head.json").exists()  # nothing signed over it


@pytest.mark.parametrize("ledger", ["emptied", "removed"])
def test_an_empty_ledger_without_a_head_is_an_error_once_anything_exists(
    tmp_path: Path, ledger: str
) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    folder = case_dir(case.store)
    (folder / "ledger.head.json").unlink()
    if ledger == "emptied":
        (folder / "ledger.jsonl").write_bytes(b"")
    else:
        (folder / "ledger.jsonl").unlink()

    report = verify_case(case.store, CASE, case.trust)

    assert not report.ok and report.statements == []
    assert "ledger head (ledger.head.json) is missing" in _errors(report)[0]


def test_a_rolled_back_store_is_caught_by_the_pin_without_any_index(tmp_path: Path) -> None:
    # Given two pulls: one at seq 1, one at seq 2 (the pin now holds seq 2)
    case = sealed_case(tmp_path / "store", ["s1"])
    out = tmp_path / "out"
    pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)
    older = tmp_path / "older"
    shutil.copytree(case_dir(case.store), older)
    case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])
    pull_case(case.store, CASE, [case.reviewer.identity], out)  # the pin is enough now
    (out / "index.json").unlink()
    (out / "index.md").unlink()
    pulled = tree(out)

    # When the older, validly signed copy of the case is restored
    shutil.rmtree(case_dir(case.store))
    shutil.copytree(older, case_dir(case.store))

    # Then the next pull and a pinned verify refuse it
    assert verify_case(case.store, CASE, case.trust).ok  # consistent in itself
    with pytest.raises(CaseVerificationError, match="ledger rolled back") as info:
        pull_case(case.store, CASE, [case.reviewer.identity], out)
    assert "seq 2 was seen before" in str(info.value)
    assert tree(out) == pulled
    checked = reviewer("verify", CASE, "--store", str(case.store.root), "--pin-from", str(out))
    assert checked.returncode == 1 and b"ledger rolled back" in checked.stdout

    # And once the bot appends over the rolled-back history, the changed entry gives it away
    case.writer.seal_statement(bundle("s3"), [case.reviewer.recipient])
    with pytest.raises(CaseVerificationError, match="ledger rewritten: entry 2"):
        pull_case(case.store, CASE, [case.reviewer.identity], out)
    assert tree(out) == pulled and (out / PIN_FILE).exists()


def test_audit_verify_fails_when_its_head_and_the_newest_events_are_deleted(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    env = {"CASEVOICE_DATA_DIR": str(data), "CASEVOICE_BOT_USERNAME": "casevoice_bot"}
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    assert casevoice("init", env=env).returncode == 0
    assert casevoice("case", "create", "LCSPR-1", "--recipient", recipient, env=env).returncode == 0
    for _ in range(3):
        made = casevoice("invite", "create", "LCSPR-1", "--role", "family", env=env)
        assert made.returncode == 0, made.stderr
    assert casevoice("audit", "verify", env=env).returncode == 0

    # When the head file and the two newest events are deleted
    (data / "audit-head.json").unlink()
    with sqlite3.connect(data / "casevoice.db") as db:
        newest = db.execute("SELECT max(seq) FROM audit_events").fetchone()[0]
        db.execute("DELETE FROM audit_events WHERE seq >= ?", (newest - 1,))

    # Then audit verify fails, and keeps failing after the bot writes another event
    gone = casevoice("audit", "verify", env=env)
    assert gone.returncode == 1 and b"audit head:" in gone.stderr and b"is missing" in gone.stderr
    assert casevoice("invite", "create", "LCSPR-1", "--role", "family", env=env).returncode == 0
    assert not (data / "audit-head.json").exists()  # never quietly re-created
    assert casevoice("audit", "verify", env=env).returncode == 1

    # An unsigned head (the old format) is no anchor either
    with sqlite3.connect(data / "casevoice.db") as db:
        seq, digest = db.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC").fetchone()
    (data / "audit-head.json").write_text(f'{{"seq": {seq}, "hash": "{digest}"}}')
    forged = casevoice("audit", "verify", env=env)
    assert forged.returncode == 1 and b"not signed by the bot's key" in forged.stderr

    # Only the operator's explicit, audited anchor starts a head again
    (data / "audit-head.json").unlink()
    assert casevoice("audit", "anchor", env=env).returncode == 0
    assert casevoice("audit", "verify", env=env).returncode == 0
