"""The inbox: every Telegram update is committed here before Telegram is told it arrived.

The payload (which holds what the person wrote) is sealed under a short-lived *inbox data key*
and erased as soon as the update has been handled; the row itself stays a while so that a
re-delivered update (same ``update_id``) is recognised and changes nothing. Old inbox keys are
shredded once no pending update needs them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import FieldCipher, FieldRef
from storage.keyring import Keyring
from storage.tables import DataKeyRow, UTCDateTime, utcnow

KEY_LIFETIME = timedelta(hours=24)
KEEP_HANDLED = timedelta(days=7)
MAX_ATTEMPTS = 3


class InboxState(StrEnum):
    """``inbox.state`` (stored as the plain string)."""

    PENDING = "pending"  # committed, not yet handled: handled (again) at the next start
    DONE = "done"
    FAILED = "failed"  # given up after MAX_ATTEMPTS; the person was asked to send it again


class InboxUpdate(SQLModel, table=True):
    __tablename__ = "inbox"
    update_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    chat_key: str = Field(max_length=64, index=True)
    state: str = Field(default=InboxState.PENDING, max_length=16, index=True)
    attempts: int = 0
    key_id: str | None = Field(default=None, max_length=32)
    payload_ct: bytes | None = None
    received_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    handled_at: datetime | None = Field(sa_type=UTCDateTime, default=None, nullable=True)


class ChatMessage(SQLModel, table=True):
    """Message ids in a chat (both directions), so /clear can delete what Telegram allows."""

    __tablename__ = "chat_messages"
    chat_key: str = Field(primary_key=True, max_length=64)
    message_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    sent_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)


@dataclass(frozen=True)
class Incoming:
    update_id: int
    chat_key: str
    payload: dict[str, Any]


class Inbox:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    async def _key_id(self, session: AsyncSession) -> str:
        row = (
            (
                await session.execute(
                    select(DataKeyRow)
                    .where(
                        col(DataKeyRow.purpose) == "inbox",
                        col(DataKeyRow.created_at) > utcnow() - KEY_LIFETIME,
                    )
                    .order_by(col(DataKeyRow.created_at).desc())
                    .limit(1)
                )
            )
            .scalars()
            .first()
        )
        if row is not None:
            return str(row.id)
        key = await self.keyring.create(session, "inbox")
        await session.flush()
        return key.key_id

    async def store(self, session: AsyncSession, updates: Sequence[Incoming]) -> list[int]:
        """Insert new updates (sealed); return the ids that were new. Re-deliveries are ignored."""
        if not updates:
            return []
        ids = [u.update_id for u in updates]
        known = set(
            (
                await session.execute(
                    select(InboxUpdate.update_id).where(col(InboxUpdate.update_id).in_(ids))
                )
            ).scalars()
        )
        fresh = [u for u in updates if u.update_id not in known]
        if not fresh:
            return []
        key_id = await self._key_id(session)
        key = await self.keyring.get(session, key_id)
        for item in fresh:
            data = json.dumps(item.payload, separators=(",", ":")).encode()
            sealed = FieldCipher.encrypt(
                key, data, FieldRef("inbox", str(item.update_id), "payload")
            )
            session.add(
                InboxUpdate(
                    update_id=item.update_id,
                    chat_key=item.chat_key,
                    key_id=key_id,
                    payload_ct=sealed,
                )
            )
        return [u.update_id for u in fresh]

    async def pending(self, session: AsyncSession) -> list[tuple[int, str]]:
        rows = await session.execute(
            select(InboxUpdate.update_id, InboxUpdate.chat_key)
            .where(col(InboxUpdate.state) == InboxState.PENDING)
            .order_by(col(InboxUpdate.update_id))
        )
        return [(int(a), str(b)) for a, b in rows.all()]

    async def load(self, session: AsyncSession, update_id: int) -> dict[str, Any] | None:
        row = await session.get(InboxUpdate, update_id)
        if (
            row is None
            or row.state != InboxState.PENDING
            or row.payload_ct is None
            or row.key_id is None
        ):
            return None
        key = await self.keyring.get(session, row.key_id)
        data = FieldCipher.decrypt(
            key, row.payload_ct, FieldRef("inbox", str(update_id), "payload")
        )
        payload: dict[str, Any] = json.loads(data)
        return payload

    async def mark_done(
        self, session: AsyncSession, update_id: int, state: InboxState = InboxState.DONE
    ) -> None:
        await session.execute(
            update(InboxUpdate)
            .where(col(InboxUpdate.update_id) == update_id)
            .values(state=state, payload_ct=None, key_id=None, handled_at=utcnow())
        )

    async def tidy(self, session: AsyncSession) -> int:
        """Forget long-handled updates and shred inbox keys nothing pending needs."""
        await session.execute(
            delete(InboxUpdate).where(
                col(InboxUpdate.state) != InboxState.PENDING,
                col(InboxUpdate.handled_at) < utcnow() - KEEP_HANDLED,
            )
        )
        in_use = set(
            (
                await session.execute(
                    select(InboxUpdate.key_id).where(col(InboxUpdate.key_id).is_not(None))
                )
            ).scalars()
        )
        current = await self._key_id(session)
        stale = [
            k
            for k in (
                await session.execute(
                    select(DataKeyRow.id).where(col(DataKeyRow.purpose) == "inbox")
                )
            ).scalars()
            if k not in in_use and k != current
        ]
        await session.execute(
            delete(ChatMessage).where(col(ChatMessage.sent_at) < utcnow() - timedelta(hours=48))
        )
        return await self.keyring.shred(session, stale, "inbox-expired")

    @staticmethod
    async def remember_messages(
        session: AsyncSession, chat_key: str, message_ids: Sequence[int]
    ) -> None:
        if not message_ids:
            return
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        await session.execute(
            insert(ChatMessage)
            .values([{"chat_key": chat_key, "message_id": m, "sent_at": now} for m in message_ids])
            .on_conflict_do_nothing()
        )

    @staticmethod
    async def recent_messages(session: AsyncSession, chat_key: str, since: datetime) -> list[int]:
        rows = await session.execute(
            select(ChatMessage.message_id)
            .where(col(ChatMessage.chat_key) == chat_key, col(ChatMessage.sent_at) > since)
            .order_by(col(ChatMessage.message_id))
        )
        return [int(m) for m in rows.scalars()]

    @staticmethod
    async def forget_messages(
        session: AsyncSession, chat_key: str, message_ids: Sequence[int]
    ) -> None:
        if message_ids:
            await session.execute(
                delete(ChatMessage).where(
                    col(ChatMessage.chat_key) == chat_key,
                    col(ChatMessage.message_id).in_(list(message_ids)),
                )
            )
