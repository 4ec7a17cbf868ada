"""A statement package: the files of one statement as a deterministic, in-memory tar.

Identical content packs to identical bytes (sorted names, fixed mtime/uid/gid/mode, USTAR, no
compression), so a package's hash only changes when its content does. Unpacking never touches
the file system and refuses anything but plain, safely named, bounded files.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.evidence.common import FORMAT_VERSION, canonical_json, check_ref, iso_utc
from storage.evidence.errors import PackageError

META_NAME = "meta.json"
MAX_MEMBERS = 2_000
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024

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


def unpack(data: bytes) -> UnpackedStatement:
    """Read a package in memory, refusing links, devices, unsafe names and oversize content."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_MEMBERS:
                    raise PackageError(f"package has more than {MAX_MEMBERS} files")
                if not member.isreg():
                    raise PackageError(f"package member {member.name!r:.120} is not a plain file")
                name = check_file_name(member.name)
                if name in files:
                    raise PackageError(f"package member {name} appears twice")
                total += member.size
                if member.size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                    raise PackageError("package exceeds the size limit")
                handle = tar.extractfile(member)
                if handle is None:
                    raise PackageError(f"package member {name} cannot be read")
                files[name] = handle.read()
    except tarfile.TarError as exc:
        raise PackageError(f"package is not a valid tar ({type(exc).__name__})") from exc
    raw_meta = files.pop(META_NAME, None)
    if raw_meta is None:
        raise PackageError(f"package has no {META_NAME}")
    try:
        meta = json.loads(raw_meta)
    except ValueError as exc:
        raise PackageError(f"package {META_NAME} is not JSON") from exc
    if not isinstance(meta, dict):
        raise PackageError(f"package {META_NAME} is not an object")
    return UnpackedStatement(meta=meta, files=files)
