"""Files held by the sandbox: voice notes users send, documents the bot uploads."""

from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass
from typing import Any

# Telegram lets bots download files of up to 20 MB.
DOWNLOAD_LIMIT = 20 * 1024 * 1024

_FOLDERS = {"voice": ("voice", ".oga"), "audio": ("music", ".mp3"), "photo": ("photos", ".jpg")}


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str | None
    file_name: str | None

    @property
    def size(self) -> int:
        return len(self.data)

    def file_object(self) -> dict[str, Any]:
        """The Bot API `File` object returned by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def summary(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.size,
        }


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}

    def add(
        self, data: bytes, kind: str, *, mime_type: str | None = None, file_name: str | None = None
    ) -> StoredFile:
        folder, default_ext = _FOLDERS.get(kind, ("documents", ""))
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        ext = default_ext or (
            f".{file_name.rsplit('.', 1)[-1]}" if file_name and "." in file_name else ""
        )
        stored = StoredFile(
            file_id=f"{kind[:2].upper()}AC{secrets.token_urlsafe(24)}",
            file_unique_id=f"AgAD{secrets.token_urlsafe(8)}",
            file_path=f"{folder}/file_{len(self._by_id)}{ext}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def all(self) -> list[StoredFile]:
        return list(self._by_id.values())
