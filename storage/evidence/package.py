"""A statement package: the files of one statement as a deterministic, in-memory tar.

Identical content packs to identical bytes (sorted names, fixed mtime/uid/gid/mode, USTAR, no
compression), so a package's hash only changes when its content does, and ``age -d | tar x``
opens it. Unpacking never touches the file system and reads the 512-byte headers itself rather
than through ``tarfile``'s extension handling: only what ``pack`` writes is accepted (POSIX
USTAR headers of plain files). PAX and GNU headers, sparse files, links and devices are refused
before any of their content is read, and every size is checked against the caps first, so a
small hostile archive can never expand in memory (a GNU sparse member of 10 KB can claim 64 MB).
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.evidence.common import (
    FORMAT_VERSION,
    canonical_json,
    check_ref,
    iso_utc,
    load_json_object,
)
from storage.evidence.errors import PackageError

META_NAME = "meta.json"
MAX_MEMBERS = 2_000
# Telegram hands a bot files of at most 20 MB and a statement is text plus, if the case asks,
# its voice notes: these caps are far above any real statement and far below a reviewer's RAM.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
# The largest tar ``pack`` can produce: content, a header and padding per member, the end.
MAX_PACKAGE_BYTES = MAX_TOTAL_BYTES + MAX_MEMBERS * 2 * tarfile.BLOCKSIZE + tarfile.RECORDSIZE
_USTAR_MAGIC = b"ustar\x0000"  # POSIX: "ustar", NUL, version "00" (GNU writes "ustar  \0")

# Relative names of 1–6 segments from a small charset: no absolute paths, no '..', no hidden files.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,5}")


def check_file_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name) or ".." in name or len(name) > 100:
        raise PackageError(f"file name {name!r:.120} is not allowed in a statement package")
    return name


@dataclass(frozen=True)
class StatementBundle:
    """One consented statement, ready to seal.

    ``files`` maps names such as ``statement.json``, ``statement.md`` and ``audio/01.ogg`` to
    their bytes. The remaining fields are non-content metadata; they travel inside the sealed
    package (``meta.json``), never in the clear.
    """

    statement_id: str
    case_ref: str
    files: Mapping[str, bytes]
    role: str
    submitted_at: datetime
    script_ref: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "statement_id": self.statement_id,
            "case_ref": self.case_ref,
            "role": self.role,
            "submitted_at": iso_utc(self.submitted_at),
            "script_ref": self.script_ref,
            "files": sorted(self.files),
            "extra": dict(self.extra),
        }


def pack(bundle: StatementBundle) -> bytes:
    """The bundle as tar bytes: ``meta.json`` plus every file, deterministically."""
    check_ref(bundle.case_ref)
    check_ref(bundle.statement_id, "statement id")
    if META_NAME in bundle.files:
        raise PackageError(f"{META_NAME} is reserved for the package's metadata")
    if not bundle.files:
        raise PackageError(f"statement {bundle.statement_id} has no files")
    members = {check_file_name(name): data for name, data in bundle.files.items()}
    members[META_NAME] = canonical_json(bundle.meta())
    # The reviewer's unpacker refuses what exceeds its caps: refuse it here, before sealing.
    _check_sizes(len(members), [len(data) for data in members.values()])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(members):
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o600
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass(frozen=True)
class UnpackedStatement:
    meta: dict[str, Any]
    files: dict[str, bytes]


def _check_sizes(members: int, sizes: list[int]) -> None:
    if members > MAX_MEMBERS:
        raise PackageError(f"package has more than {MAX_MEMBERS} files")
    if any(size > MAX_FILE_BYTES for size in sizes) or sum(sizes) > MAX_TOTAL_BYTES:
        raise PackageError("package exceeds the size limit")


def _header(block: bytes, offset: int) -> tarfile.TarInfo:
    """One member header, accepted only as ``pack`` writes it: POSIX USTAR, a plain file."""
    if block[257:265] != _USTAR_MAGIC:
        raise PackageError(f"package header at byte {offset} is not a POSIX ustar header")
    if block[156:157] != tarfile.REGTYPE:
        # 'x'/'g' PAX, 'L'/'K' GNU long names, 'S' sparse, '1'/'2' links, '3'/'4' devices …
        raise PackageError(f"package member at byte {offset} is not a plain file")
    try:
        info = tarfile.TarInfo.frombuf(block, "utf-8", "strict")
    except (tarfile.TarError, UnicodeDecodeError) as exc:
        raise PackageError(f"package header at byte {offset} is invalid") from exc
    if info.linkname or info.size < 0:
        raise PackageError(f"package header at byte {offset} is invalid")
    return info


def unpack(data: bytes) -> UnpackedStatement:
    """Read a package in memory: plain, safely named, bounded files only, or PackageError."""
    files: dict[str, bytes] = {}
    offset = total = 0
    block_size = tarfile.BLOCKSIZE
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageError("package exceeds the size limit")
    while True:
        block = data[offset : offset + block_size]
        if len(block) < block_size:
            raise PackageError("package is truncated (no end-of-archive marker)")
        if block == bytes(block_size):
            rest = data[offset:]
            if rest.count(0) != len(rest):
                raise PackageError("package has data after its end-of-archive marker")
            break
        info = _header(block, offset)
        name = check_file_name(info.name)
        if name in files:
            raise PackageError(f"package member {name} appears twice")
        total += info.size
        if len(files) >= MAX_MEMBERS:
            raise PackageError(f"package has more than {MAX_MEMBERS} files")
        if info.size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise PackageError("package exceeds the size limit")
        start = offset + block_size
        if start + info.size > len(data):
            raise PackageError(f"package member {name} is truncated")
        files[name] = data[start : start + info.size]
        offset = start + -(-info.size // block_size) * block_size
    raw_meta = files.pop(META_NAME, None)
    if raw_meta is None:
        raise PackageError(f"package has no {META_NAME}")
    meta = load_json_object(raw_meta, PackageError, f"package {META_NAME}")
    return UnpackedStatement(meta=meta, files=files)
