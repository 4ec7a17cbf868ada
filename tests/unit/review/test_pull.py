from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path

import pytest

from review.pull import CaseVerificationError, PullProgress, pull_case
from storage.evidence import WrongIdentityError, load_identities
from tests.unit.evidence.helpers import (
    CASE,
    bundle,
    ledger_lines,
    new_reviewer,
    sealed_case,
    write_ledger_lines,
)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_seal_then_pull_writes_readable_documents_and_an_index(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    out = tmp_path / "out"
    seen: list[PullProgress] = []

    result = pull_case(
        case.store, CASE, [case.reviewer.identity], out, seen.append, signer=case.signer
    )

    assert [r.status for r in result.rows] == ["exported", "exported"]
    assert (out / "s1" / "statement.md").read_text() == "# Statement\n\nWhat I saw\n"
    assert json.loads((out / "s1" / "statement.json").read_bytes()) == {"answers": ["What I saw"]}
    assert (out / "s2" / "audio" / "01.ogg").read_bytes() == b"OggS fake audio s2"
    provenance = json.loads((out / "s1" / "provenance.json").read_bytes())
    assert provenance["ledger_seq"] == 1 and provenance["meta"]["role"] == "professional"
    index = json.loads((out / "index.json").read_bytes())
    assert [s["receipt_code"] for s in index["statements"]] == [r.receipt_code for r in result.rows]
    assert index["statements"][0]["role"] == "professional"
    assert "| statement s1 | — | professional |" in (out / "index.md").read_text()
    assert (out / "index.docx").read_bytes()[:2] == b"PK"
    assert [(p.done, p.total) for p in seen] == [(1, 2), (2, 2)]
    assert stat.S_IMODE((out / "s1" / "statement.md").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "s1").stat().st_mode) == 0o700


def test_pull_with_an_identity_made_by_age_keygen(tmp_path: Path) -> None:
    identity_file = tmp_path / "keygen.txt"
    subprocess.run(
        ["/usr/bin/age-keygen", "-o", str(identity_file)], check=True, capture_output=True
    )
    match = re.search(r"# public key: (age1\w+)", identity_file.read_text())
    assert match is not None
    case = sealed_case(tmp_path / "store", [])
    case.writer.seal_statement(bundle("s1"), [match.group(1)])

    result = pull_case(
        case.store, CASE, load_identities(identity_file), tmp_path / "out", signer=case.signer
    )

    assert result.rows[0].status == "exported"
    assert (tmp_path / "out" / "s1" / "statement.md").exists()


def test_each_of_several_recipients_can_pull(tmp_path: Path) -> None:
    lead, panel = new_reviewer(), new_reviewer()
    case = sealed_case(tmp_path / "store", [])
    case.writer.seal_statement(bundle("s1"), [lead.recipient, panel.recipient])
    for name, reviewer in (("lead", lead), ("panel", panel)):
        pull_case(case.store, CASE, [reviewer.identity], tmp_path / name, signer=case.signer)
    assert _tree(tmp_path / "lead") == _tree(tmp_path / "panel")


def test_wrong_identity_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    out = tmp_path / "out"
    with pytest.raises(WrongIdentityError, match="not a recipient of any statement"):
        pull_case(case.store, CASE, [new_reviewer().identity], out, signer=case.signer)
    assert not out.exists()


def test_withdrawn_statement_is_listed_not_exported_and_removed(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    out = tmp_path / "out"
    pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)
    assert (out / "s2" / "statement.md").exists()

    case.writer.write_withdrawal(CASE, "s2", "participant-request")
    result = pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)

    assert [r.status for r in result.rows] == ["exported", "withdrawn"]
    assert result.removed == ["s2"] and not (out / "s2").exists()
    row = json.loads((out / "index.json").read_bytes())["statements"][1]
    assert row["status"] == "withdrawn" and row["withdrawal_reason"] == "participant-request"
    assert row["role"] is None  # a withdrawn statement is never decrypted
    assert "Withdrawn on " in (out / "index.md").read_text()


def test_pulling_twice_gives_the_same_result_and_rewrites_nothing(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    out = tmp_path / "out"
    first = pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)
    before = _tree(out)
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    second = pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)

    assert _tree(out) == before
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes
    assert first.files_written == len(before) and second.files_written == 0
    assert second.files_unchanged == len(before)


def test_a_modified_statement_stops_the_pull_and_nothing_is_written(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    path = tmp_path / "store" / CASE / "s1.age"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    out = tmp_path / "out"

    with pytest.raises(CaseVerificationError, match="nothing was written") as info:
        pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)

    assert [p.message for p in info.value.report.problems] == [
        "statement s1: sealed file modified (sha256 mismatch)"
    ]
    assert not out.exists()


def test_a_broken_ledger_stops_the_pull_before_anything_is_written(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2", "s3"])
    lines = ledger_lines(case.store)
    write_ledger_lines(case.store, [lines[0], lines[2]])
    out = tmp_path / "out"
    with pytest.raises(CaseVerificationError, match=r"entry 2 missing \(seq gap 1→3\)") as info:
        pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)
    assert not info.value.report.case_ok
    assert not out.exists()


def test_a_rolled_back_ledger_is_refused_on_the_next_pull(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    head = tmp_path / "store" / CASE / "ledger.head.json"
    old_ledger, old_head = ledger_lines(case.store), head.read_bytes()
    case.writer.seal_statement(bundle("s2"), [case.reviewer.recipient])
    out = tmp_path / "out"
    pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)

    write_ledger_lines(case.store, old_ledger)  # replay an older, validly signed state
    head.write_bytes(old_head)
    (tmp_path / "store" / CASE / "s2.age").unlink()
    (tmp_path / "store" / CASE / "s2.sig.json").unlink()

    with pytest.raises(CaseVerificationError, match="ledger rolled back"):
        pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)
