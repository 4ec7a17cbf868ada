"""Data keys in the database: create, load, shred, re-wrap.

An unwrapped key is cached for one session (one unit of work) only: an unwrap is one AES-GCM
call on 32 bytes, and not caching across sessions means a shredded key is gone for every unit
of work and every process the moment the shredding commits.

Shredding also appends the key id to a ledger file in the data directory, outside the database,
so that restoring an old database backup can be followed by ``casevoice keys reshred``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import DataKey, unwrap_key, wrap_key
from storage.errors import KeyShreddedError
from storage.files import append_durably
from storage.keyfile import KeyProvider
from storage.tables import DataKeyRow, ShreddedKey, utcnow

_CACHE = "casevoice_data_keys"


class ShredLedger:
    """Append-only file of shredded key ids (no content, ids only)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, key_ids: Iterable[str], reason: str) -> None:
        lines = "".join(f"{key_id}\t{reason}\t{utcnow().isoformat()}\n" for key_id in key_ids)
        if lines:
            append_durably(self.path, lines.encode())

    def key_ids(self) -> set[str]:
        if not self.path.exists():
            return set()
        ids = set()
        for line in self.path.read_text().splitlines():
            key_id = line.split("\t", 1)[0].strip()
            if key_id:
                ids.add(key_id)
        return ids


class Keyring:
    """Creates and opens data keys; the service owns the transaction."""

    def __init__(self, provider: KeyProvider, ledger: ShredLedger | None = None) -> None:
        self.provider = provider
        self.ledger = ledger

    async def create(self, session: AsyncSession, purpose: str) -> DataKey:
        key = DataKey.generate()
        kek_id, kek = self.provider.active_kek()
        session.add(
            DataKeyRow(
                id=key.key_id, kek_id=kek_id, wrapped=wrap_key(kek_id, kek, key), purpose=purpose
            )
        )
        return key

    async def get(self, session: AsyncSession, key_id: str) -> DataKey:
        """Unwrap a data key. Cached for the life of one session (one unit of work) only, so a
        key shredded by another unit of work is never served from a cache afterwards."""
        cache: dict[str, DataKey] = session.info.setdefault(_CACHE, {})
        if key_id in cache:
            return cache[key_id]
        row = await session.get(DataKeyRow, key_id)
        if row is None:
            raise KeyShreddedError(f"data key {key_id} is shredded or unknown")
        key = unwrap_key(row.kek_id, self.provider.kek(row.kek_id), row.id, row.wrapped)
        cache[key_id] = key
        return key

    async def shred(self, session: AsyncSession, key_ids: Iterable[str], reason: str) -> int:
        """Destroy data keys: everything sealed under them becomes unreadable for good."""
        ids = sorted(set(key_ids))
        if not ids:
            return 0
        cache = session.info.get(_CACHE, {})
        for key_id in ids:
            cache.pop(key_id, None)
        if self.ledger is not None:
            # Written first on purpose: if the commit then fails, a later reshred finishes the
            # job; the opposite order could forget a shredding the person asked for. (fsync:
            # off the event loop.)
            await asyncio.to_thread(self.ledger.append, ids, reason)
        result = cast(
            CursorResult[Any],
            await session.execute(delete(DataKeyRow).where(col(DataKeyRow.id).in_(ids))),
        )
        known = set(
            (
                await session.execute(
                    select(col(ShreddedKey.key_id)).where(col(ShreddedKey.key_id).in_(ids))
                )
            ).scalars()
        )
        for key_id in ids:
            if key_id not in known:
                session.add(ShreddedKey(key_id=key_id, reason=reason))
        return int(result.rowcount or 0)

    async def reshred(self, session: AsyncSession) -> int:
        """Re-apply the file ledger (after restoring a database backup)."""
        if self.ledger is None:
            return 0
        ids = self.ledger.key_ids()
        present = set(
            (
                await session.execute(select(col(DataKeyRow.id)).where(col(DataKeyRow.id).in_(ids)))
            ).scalars()
        )
        if not present:
            return 0
        await session.execute(delete(DataKeyRow).where(col(DataKeyRow.id).in_(present)))
        for key_id in present:
            if await session.get(ShreddedKey, key_id) is None:
                session.add(ShreddedKey(key_id=key_id, reason="reshred"))
        return len(present)

    async def rewrap_all(self, session: AsyncSession) -> int:
        """Re-wrap every data key under the provider's active KEK (key rotation)."""
        kek_id, kek = self.provider.active_kek()
        rows = (await session.execute(select(DataKeyRow))).scalars().all()
        count = 0
        for row in rows:
            if row.kek_id == kek_id:
                continue
            key = unwrap_key(row.kek_id, self.provider.kek(row.kek_id), row.id, row.wrapped)
            row.wrapped = wrap_key(kek_id, kek, key)
            row.kek_id = kek_id
            session.add(row)
            count += 1
        return count

    async def kek_ids_in_use(self, session: AsyncSession) -> set[str]:
        return set((await session.execute(select(col(DataKeyRow.kek_id)).distinct())).scalars())
