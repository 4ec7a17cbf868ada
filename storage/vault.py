"""The one place services turn plaintext into ciphertext and back.

``Vault`` joins the keyring (which data key) with the field cipher (which record and field), so
a service writes ``await vault.seal_text(session, key_id, FieldRef(...), text)`` and cannot forget
to bind a ciphertext to its record.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import FieldCipher, FieldRef, keyed_hash
from storage.keyfile import KeyProvider
from storage.keyring import Keyring


class Vault:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    @property
    def provider(self) -> KeyProvider:
        return self.keyring.provider

    async def seal(self, session: AsyncSession, key_id: str, ref: FieldRef, data: bytes) -> bytes:
        key = await self.keyring.get(session, key_id)
        return FieldCipher.encrypt(key, data, ref)

    async def open(self, session: AsyncSession, key_id: str, ref: FieldRef, sealed: bytes) -> bytes:
        key = await self.keyring.get(session, key_id)
        return FieldCipher.decrypt(key, sealed, ref)

    async def seal_text(
        self, session: AsyncSession, key_id: str, ref: FieldRef, text: str
    ) -> bytes:
        return await self.seal(session, key_id, ref, text.encode("utf-8"))

    async def open_text(
        self, session: AsyncSession, key_id: str, ref: FieldRef, sealed: bytes
    ) -> str:
        return (await self.open(session, key_id, ref, sealed)).decode("utf-8")

    def user_hash(self, telegram_user_id: int) -> str:
        """How a Telegram user is known at rest: a keyed hash, never the raw id."""
        return keyed_hash(self.provider.hmac_key(), "tg-user", telegram_user_id)

    def chat_hash(self, chat_id: int) -> str:
        return keyed_hash(self.provider.hmac_key(), "tg-chat", chat_id)

    def invite_hash(self, code: str) -> str:
        return keyed_hash(self.provider.hmac_key(), "invite", code)
