from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest

from storage.evidence import InvalidNameError, LocalEvidenceStore, ObjectExistsError
from storage.evidence.errors import ObjectNotFoundError
from storage.evidence.layout import statement_key


def test_put_object_is_idempotent_and_refuses_different_bytes(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    store.put_object("c1/s1.age", b"sealed")
    store.put_object("c1/s1.age", b"sealed")  # identical: fine
    with pytest.raises(ObjectExistsError):
        store.put_object("c1/s1.age", b"other")
    assert store.get_object("c1/s1.age") == b"sealed"


def test_objects_are_private(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path / "store")
    store.put_object("c1/s1.age", b"sealed")
    store.append_object("c1/ledger.jsonl", b"{}\n")
    store.replace_object("c1/ledger.head.json", b"{}")
    for name in ("s1.age", "ledger.jsonl", "ledger.head.json"):
        assert stat.S_IMODE((tmp_path / "store" / "c1" / name).stat().st_mode) == 0o600
    for directory in (tmp_path / "store", tmp_path / "store" / "c1"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_list_exists_and_missing(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    for key in ("c1/b.age", "c1/a.age", "c2/a.age", "signer.pub"):
        store.put_object(key, b"x")
    with store.lock("c1"):
        pass  # the lock file is not an object
    assert store.list("c1/") == ["c1/a.age", "c1/b.age"]
    assert store.list() == ["c1/a.age", "c1/b.age", "c2/a.age", "signer.pub"]
    assert store.list("nope/") == []
    assert store.exists("c1/a.age") and not store.exists("c1/zzz.age")
    with pytest.raises(ObjectNotFoundError):
        store.get_object("c1/zzz.age")


@pytest.mark.parametrize("ref", ["../etc", "a/b", "..", ".hidden", "", "case ref", "-rf", "x" * 65])
def test_path_traversal_in_case_ref_is_refused(tmp_path: Path, ref: str) -> None:
    with pytest.raises(InvalidNameError):
        statement_key(ref, "s1")
    with pytest.raises(InvalidNameError):
        statement_key("c1", ref)


@pytest.mark.parametrize("key", ["../x", "/abs", "c1//x", "c1/../x", "c1/.lock", "c1/a..b"])
def test_unsafe_object_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalEvidenceStore(tmp_path / "store")
    with pytest.raises(InvalidNameError):
        store.put_object(key, b"x")
    assert not (tmp_path / "x").exists()


def blocked_flock_waiters(path: Path) -> int:
    """How many flock requests on `path` the kernel holds waiting (``->`` in /proc/locks)."""
    inode = path.stat().st_ino
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(
        1 for line in lines if "->" in line.split() and line.split()[-3].endswith(f":{inode}")
    )


def test_lock_excludes_a_second_writer(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    order: list[str] = []

    def second() -> None:
        with store.lock("c1"):
            order.append("second")

    with store.lock("c1"):
        thread = threading.Thread(target=second)
        thread.start()
        # The second writer is asleep in the kernel, waiting for this lock (seen, not guessed)
        deadline = time.monotonic() + 10
        while not blocked_flock_waiters(tmp_path / "c1" / ".writer.lock"):
            assert time.monotonic() < deadline, "the second writer never waited for the lock"
            time.sleep(0.01)
        assert order == []
        order.append("first")
    thread.join()
    assert order == ["first", "second"]
