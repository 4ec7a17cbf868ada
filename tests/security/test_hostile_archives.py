"""Finding 9 (archives): a statement package holds plain files only, bounded before reading.

A hostile package needs a signature the reviewer accepts, so the attacker here is one the
reviewer trusted on first use (or a compromised bot). Whatever it sends, the unpacker reads
nothing but USTAR plain files within the caps: GNU sparse and PAX members (10 KB that expand to
64 MB through ``tarfile``), links, devices, a size header claiming petabytes, unsafe names.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.evidence import PackageError
from storage.evidence.package import pack, unpack
from tests.security.attacker import identity_file, reviewer, store_with_package, tree
from tests.unit.evidence.helpers import CASE, bundle, new_reviewer

TAR = shutil.which("tar") or "/usr/bin/tar"


def _gnu_tar(tmp_path: Path, *flags: str) -> bytes:
    """A 64 MB sparse file archived by GNU tar itself: ``--sparse`` makes it 10 KB."""
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    (folder / "meta.json").write_text('{"case_ref": "case-2024-07", "statement_id": "s1"}')
    with (folder / "statement.md").open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
        handle.seek(1000)
        handle.write(b"x")
    archive = tmp_path / "sparse.tar"
    subprocess.run(
        [TAR, *flags, "--sparse", "-cf", str(archive), "-C", str(folder), "meta.json"]
        + ["statement.md"],
        check=True,
    )
    data = archive.read_bytes()
    assert len(data) <= 20 * 1024  # the point: tiny on the wire
    return data


def _member(info: tarfile.TarInfo, fmt: int = tarfile.USTAR_FORMAT, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        meta = tarfile.TarInfo("meta.json")
        meta.size = 2
        tar.addfile(meta, io.BytesIO(b"{}"))
        tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def _typed(name: str, kind: bytes, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def _huge_size_header() -> bytes:
    """A genuine package whose first header claims 2**50 bytes (base-256 size field)."""
    data = bytearray(pack(bundle("s1")))
    data[124:136] = b"\x80" + (2**50).to_bytes(11, "big")
    data[148:156] = b" " * 8
    data[148:156] = f"{sum(data[:512]):06o}\0 ".encode()
    return bytes(data)


HOSTILE: dict[str, Callable[[Path], bytes]] = {
    "gnu-sparse": lambda tmp: _gnu_tar(tmp, "--format=gnu"),
    "pax-sparse": lambda tmp: _gnu_tar(tmp, "--format=posix"),
    "pax-header": lambda tmp: _member(
        _typed("statement.md", tarfile.REGTYPE, size=2, pax_headers={"comment": "x"}),
        tarfile.PAX_FORMAT,
        b"hi",
    ),
    "gnu-long-name": lambda tmp: _member(
        _typed("a" * 120, tarfile.REGTYPE, size=2), tarfile.GNU_FORMAT, b"hi"
    ),
    "symlink": lambda tmp: _member(_typed("statement.md", tarfile.SYMTYPE, linkname="/etc/passwd")),
    "hardlink": lambda tmp: _member(_typed("statement.md", tarfile.LNKTYPE, linkname="meta.json")),
    "device": lambda tmp: _member(_typed("statement.md", tarfile.CHRTYPE, devmajor=1, devminor=3)),
    "fifo": lambda tmp: _member(_typed("statement.md", tarfile.FIFOTYPE)),
    "directory": lambda tmp: _member(_typed("audio", tarfile.DIRTYPE)),
    "absolute-name": lambda tmp: _member(
        _typed("/etc/cron.d/x", tarfile.REGTYPE, size=2), data=b"hi"
    ),
    "parent-name": lambda tmp: _member(_typed("../../x", tarfile.REGTYPE, size=2), data=b"hi"),
    "huge-size": lambda tmp: _huge_size_header(),
    "truncated": lambda tmp: pack(bundle("s1"))[:2000],
    "trailing-data": lambda tmp: pack(bundle("s1")) + b"PK\x03\x04 more",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_archive_is_refused_before_its_content_is_read(tmp_path: Path, kind: str) -> None:
    with pytest.raises(PackageError):
        unpack(HOSTILE[kind](tmp_path))


def test_tarfile_itself_would_have_expanded_the_sparse_archive(tmp_path: Path) -> None:
    """The control: the sparse samples really are bombs for a naive reader."""
    for flags in ("--format=gnu", "--format=posix"):
        with tarfile.open(fileobj=io.BytesIO(_gnu_tar(tmp_path, flags))) as tar:
            member = tar.getmember("statement.md")
            assert member.issparse()
            handle = tar.extractfile(member)
            assert handle is not None and len(handle.read()) == 64 * 1024 * 1024


def test_a_genuine_package_still_unpacks() -> None:
    unpacked = unpack(pack(bundle("s1")))
    assert unpacked.meta["statement_id"] == "s1"
    assert set(unpacked.files) == {"statement.json", "statement.md", "audio/01.ogg"}


@pytest.mark.parametrize("kind", ["gnu-sparse", "symlink", "huge-size"])
def test_a_hostile_package_through_pull_is_skipped_and_writes_nothing_of_it(
    tmp_path: Path, kind: str
) -> None:
    person = new_reviewer()
    store_with_package(
        tmp_path / "store", Ed25519PrivateKey.generate(), person, "s1", HOSTILE[kind](tmp_path)
    )
    identity = identity_file(tmp_path / "id.txt", person)
    out = tmp_path / "out"

    ran = reviewer(
        *["pull", CASE, "--identity", str(identity), "--out", str(out)],
        *["--store", str(tmp_path / "store"), "--trust-on-first-use"],
    )

    assert ran.returncode == 1 and b"skipped: s1: package" in ran.stderr, ran.stderr
    assert sorted(tree(out)) == ["index.docx", "index.json", "index.md", "signer-pin.json"]
    assert not (tmp_path / "etc").exists()
