"""Finding 1: a store that serves different bytes to each read cannot get a forgery decrypted.

The attacker controls what the store returns: a FUSE or network folder, a sync client, a FIFO or
a writer racing the reviewer can hand verification the genuine file and the decryption a forged
one. Every object is read once, and exactly the verified bytes are decrypted.
"""

from __future__ import annotations

import errno
import os
from collections import Counter
from pathlib import Path

import pytest

from review.pull import CaseVerificationError, pull_case
from review.trust import Trust
from review.verify import verify_case
from storage.evidence import LocalEvidenceStore
from tests.security.attacker import FORGED_TEXT, case_dir, forged_sealed, tree
from tests.unit.evidence.helpers import CASE, sealed_case

GENUINE_TEXT = "What I saw"


class ShiftyStore(LocalEvidenceStore):
    """Genuine bytes on the first read of a sealed file, a forgery sealed to the same reviewer
    on every later read; counts every read."""

    def __init__(self, root: Path, forged: bytes) -> None:
        super().__init__(root)
        self.forged = forged
        self.reads: Counter[str] = Counter()

    def get_object(self, key: str) -> bytes:
        self.reads[key] += 1
        if key.endswith(".age") and self.reads[key] > 1:
            return self.forged
        return super().get_object(key)


class SwappingStore(LocalEvidenceStore):
    """A writer racing the reviewer: right after the sealed file is read, it is replaced on disk."""

    def __init__(self, root: Path, forged: bytes) -> None:
        super().__init__(root)
        self.forged = forged

    def get_object(self, key: str) -> bytes:
        data = super().get_object(key)
        if key.endswith(".age"):
            path = self.root / key
            (path.parent / ".swap").write_bytes(self.forged)
            os.replace(path.parent / ".swap", path)
        return data


def test_a_store_that_changes_bytes_between_reads_gets_the_genuine_statement_exported(
    tmp_path: Path,
) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    store = ShiftyStore(tmp_path / "store", forged_sealed(case.reviewer, "s1"))
    out = tmp_path / "out"

    result = pull_case(store, CASE, [case.reviewer.identity], out, signer=case.signer)

    assert [row.status for row in result.rows] == ["exported", "exported"]
    for statement_id in ("s1", "s2"):
        text = (out / statement_id / "statement.md").read_text()
        assert GENUINE_TEXT in text and FORGED_TEXT not in text
    assert store.reads and max(store.reads.values()) == 1, store.reads  # every object read once


def test_a_file_swapped_between_reads_changes_nothing_that_is_exported(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    store = SwappingStore(tmp_path / "store", forged_sealed(case.reviewer, "s1"))
    out = tmp_path / "out"

    pull_case(store, CASE, [case.reviewer.identity], out, signer=case.signer)

    assert FORGED_TEXT not in (out / "s1" / "statement.md").read_text()
    assert (case_dir(store) / "s1.age").read_bytes() == store.forged  # the swap did happen


@pytest.mark.timeout(60)  # reading a FIFO the old way blocks until a writer shows up
def test_a_fifo_in_place_of_a_sealed_file_is_refused_without_waiting_or_writing(
    tmp_path: Path,
) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    sealed = case_dir(case.store) / "s1.age"
    sealed.unlink()
    os.mkfifo(sealed)
    out = tmp_path / "out"

    with pytest.raises(CaseVerificationError, match="s1.age is not a regular file") as info:
        pull_case(case.store, CASE, [case.reviewer.identity], out, signer=case.signer)

    assert not info.value.report.ok
    with pytest.raises(OSError) as no_reader:  # nobody keeps it open for a writer to feed
        os.open(sealed, os.O_WRONLY | os.O_NONBLOCK)
    assert no_reader.value.errno == errno.ENXIO
    assert not out.exists()


@pytest.mark.parametrize("where", ["file", "folder"])
def test_a_symbolic_link_in_the_store_is_refused(tmp_path: Path, where: str) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    folder = case_dir(case.store)
    elsewhere = tmp_path / "elsewhere"
    if where == "file":
        elsewhere.mkdir()
        (elsewhere / "s1.age").write_bytes((folder / "s1.age").read_bytes())
        (folder / "s1.age").unlink()
        (folder / "s1.age").symlink_to(elsewhere / "s1.age")
    else:
        folder.rename(elsewhere)
        folder.symlink_to(elsewhere, target_is_directory=True)

    report = verify_case(case.store, CASE, case.trust)

    assert not report.ok
    assert any("symbolic link" in p.message for p in report.problems), report.problems
    with pytest.raises(CaseVerificationError):
        pull_case(case.store, CASE, [case.reviewer.identity], tmp_path / "out", signer=case.signer)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "size"), [("s1.age", 1024**3), ("ledger.head.json", 1024**2)])
def test_an_oversize_object_is_refused_before_it_is_read(
    tmp_path: Path, name: str, size: int
) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    os.truncate(case_dir(case.store) / name, size)  # sparse: claims the size, costs no disk

    report = verify_case(case.store, CASE, case.trust)

    assert any(f"{name} is larger than" in p.message for p in report.problems), report.problems
    with pytest.raises(CaseVerificationError):
        pull_case(case.store, CASE, [case.reviewer.identity], tmp_path / "out", signer=case.signer)
    assert tree(tmp_path / "out") == {}


def test_verification_alone_reads_every_object_once(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    case.writer.write_withdrawal(CASE, "s2", "participant-request")
    store = ShiftyStore(tmp_path / "store", b"unused")

    assert verify_case(store, CASE, Trust.pinned(case.fingerprint)).ok

    assert set(store.reads) >= {
        "signer.pub",
        f"{CASE}/ledger.jsonl",
        f"{CASE}/ledger.head.json",
        f"{CASE}/s2.withdrawal.json",
        f"{CASE}/s2.withdrawal.sig.json",
    }
    assert max(store.reads.values()) == 1, store.reads
