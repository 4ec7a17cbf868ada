from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.evidence import LedgerError
from storage.evidence.ledger import EvidenceLedger, LedgerEntry, check_chain, parse_ledger
from tests.unit.evidence.helpers import CASE, ledger_lines, sealed_case, write_ledger_lines


def _entries(lines: list[bytes]) -> list[LedgerEntry]:
    return parse_ledger(b"".join(lines)).entries


def test_an_intact_chain_has_no_problems(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2", "s3"])
    assert check_chain(_entries(ledger_lines(case.store)), CASE) == []


def test_removed_entry_is_named_as_a_gap(tmp_path: Path) -> None:
    lines = ledger_lines(sealed_case(tmp_path, ["s1", "s2", "s3"]).store)
    assert check_chain(_entries([lines[0], lines[2]]), CASE) == ["entry 2 missing (seq gap 1→3)"]


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    lines = ledger_lines(sealed_case(tmp_path, ["s1", "s2", "s3"]).store)
    problems = check_chain(_entries([lines[0], lines[2], lines[1]]), CASE)
    assert problems == ["entries reordered: entry 2 appears after 3"]


def test_altered_entry_and_broken_link_are_named(tmp_path: Path) -> None:
    lines = ledger_lines(sealed_case(tmp_path, ["s1", "s2", "s3"]).store)
    entry = json.loads(lines[1])
    entry["statement_id"] = "s9"
    altered = [lines[0], json.dumps(entry).encode() + b"\n", lines[2]]
    assert check_chain(_entries(altered), CASE) == [
        "ledger entry 2: entry_hash does not match its content"
    ]
    entry = json.loads(lines[2])
    entry["prev_hash"] = "f" * 64
    relinked = [lines[0], lines[1], json.dumps(entry).encode() + b"\n"]
    problems = check_chain(_entries(relinked), CASE)
    assert "ledger entry 3: prev_hash does not match entry 2" in problems


def test_torn_last_line_is_repaired_but_complete_entries_are_kept(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1"])
    lines = ledger_lines(case.store)
    write_ledger_lines(case.store, [lines[0], lines[0][:40]])  # crash mid-append of entry 2
    ledger = EvidenceLedger(case.store, CASE, case.key)
    with pytest.raises(LedgerError):
        ledger.entries()

    report = ledger.recover()

    assert report.torn_bytes_removed == 40
    assert [e.seq for e in ledger.entries()] == [1]


def test_complete_last_line_without_newline_is_not_dropped(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2"])
    lines = ledger_lines(case.store)
    write_ledger_lines(case.store, [lines[0], lines[1].rstrip(b"\n")])
    ledger = EvidenceLedger(case.store, CASE, case.key)
    assert ledger.recover().newline_restored
    assert ledger_lines(case.store) == lines


def test_recover_refuses_a_ledger_cut_below_its_signed_head(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2"])
    write_ledger_lines(case.store, ledger_lines(case.store)[:1])
    with pytest.raises(LedgerError, match="entries removed from the end"):
        EvidenceLedger(case.store, CASE, case.key).recover()


def test_recover_refuses_a_corrupt_middle_line(tmp_path: Path) -> None:
    case = sealed_case(tmp_path, ["s1", "s2"])
    lines = ledger_lines(case.store)
    write_ledger_lines(case.store, [b"{garbage\n", lines[1]])
    with pytest.raises(LedgerError, match="ledger line 1"):
        EvidenceLedger(case.store, CASE, case.key).recover()
