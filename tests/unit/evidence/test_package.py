from __future__ import annotations

import io
import tarfile

import pytest

from storage.evidence import PackageError, StatementBundle
from storage.evidence.package import pack, unpack
from tests.unit.evidence.helpers import SUBMITTED, bundle


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def test_identical_content_packs_identically_whatever_the_order() -> None:
    given = bundle("s1")
    reordered = StatementBundle(
        statement_id="s1",
        case_ref=given.case_ref,
        files=dict(reversed(list(given.files.items()))),
        role=given.role,
        submitted_at=SUBMITTED,
        script_ref=given.script_ref,
    )
    assert pack(given) == pack(reordered)
    assert pack(given) != pack(bundle("s1", text="something else"))


def test_pack_round_trips_with_metadata() -> None:
    unpacked = unpack(pack(bundle("s1")))
    assert set(unpacked.files) == {"statement.json", "statement.md", "audio/01.ogg"}
    assert unpacked.meta["statement_id"] == "s1"
    assert unpacked.meta["role"] == "professional"
    assert unpacked.meta["submitted_at"] == "2024-07-01T10:30:00+00:00"


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape.md", "a/../../b", ".hidden", "a\\b"])
def test_pack_refuses_unsafe_names(name: str) -> None:
    bad = StatementBundle("s1", "c1", {name: b"x"}, "family", SUBMITTED)
    with pytest.raises(PackageError):
        pack(bad)


def test_meta_name_is_reserved() -> None:
    with pytest.raises(PackageError, match="reserved"):
        pack(StatementBundle("s1", "c1", {"meta.json": b"{}"}, "family", SUBMITTED))


@pytest.mark.parametrize(
    "member",
    [
        _member("../../etc/cron.d/x"),
        _member("/abs/path.md"),
        _member("link.md", tarfile.SYMTYPE, "/etc/passwd"),
        _member("hard.md", tarfile.LNKTYPE, "statement.md"),
        _member("dir", tarfile.DIRTYPE),
        _member("dev", tarfile.CHRTYPE),
    ],
)
def test_unpack_refuses_unsafe_members(member: tarfile.TarInfo) -> None:
    data = _tar([(_member("meta.json"), b"{}"), (member, b"payload")])
    with pytest.raises(PackageError):
        unpack(data)


def test_unpack_refuses_oversize_and_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("storage.evidence.package.MAX_TOTAL_BYTES", 10)
    with pytest.raises(PackageError, match="size limit"):
        unpack(_tar([(_member("meta.json"), b"{}"), (_member("a.md"), b"x" * 20)]))
    monkeypatch.undo()
    with pytest.raises(PackageError, match="twice"):
        unpack(_tar([(_member("a.md"), b"1"), (_member("a.md"), b"2")]))


def test_unpack_refuses_garbage_and_missing_meta() -> None:
    with pytest.raises(PackageError):
        unpack(b"definitely not a tar" * 40)
    with pytest.raises(PackageError, match="meta.json"):
        unpack(_tar([(_member("statement.md"), b"hi")]))
