"""The bot's services over a real database, without Telegram: a container opened as the bot
opens it, and a participant who calls ``ConversationService`` exactly as the handlers do (one
transaction per incoming event)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.container import Container
from bot.settings import load_settings
from handlers.callbacks import unpack
from interview.services.replies import Outcome
from interview.services.voice import VoiceNote
from storage.evidence import generate_signing_key, write_identity_file
from storage.keyfile import FileKeyProvider

CASE = "LCSPR-SEAL-01"
CONSENT = ("take_part", "quote", "anonymised_publication")


@asynccontextmanager
async def opened_container(
    data_dir: Path, database_url: str, identity: Path, **settings: Any
) -> AsyncIterator[Container]:
    """What `casevoice init` + `case create` leave behind, opened the way the bot opens it."""
    FileKeyProvider.create(data_dir / "keys.json")
    generate_signing_key(data_dir / "signing-key.pem")
    (data_dir / "evidence").mkdir(mode=0o700)
    recipient = write_identity_file(identity)
    loaded = load_settings(
        data_dir=data_dir, database_url=database_url, bot_username="casevoice_test_bot", **settings
    )
    async with await Container.open(loaded, with_evidence=True) as opened:
        await opened.cases.create(CASE, [recipient], title="A review")
        yield opened


class Participant:
    def __init__(self, container: Container, user_id: int) -> None:
        self.c = container
        self.user_id = user_id
        self.user_hash = container.vault.user_hash(user_id)
        self.messages = 0

    async def _in_tx(self, call: str, *args: Any) -> Outcome:
        async with self.c.sessions() as session, session.begin():
            method = getattr(self.c.conversation, call)
            outcome: Outcome = await method(session, self.user_hash, *args)
            return outcome

    async def start(self, code: str = "") -> Outcome:
        return await self._in_tx("start", code)

    async def command(self, name: str) -> Outcome:
        return await self._in_tx("command", name)

    async def press(self, data: str) -> Outcome:
        """Press the button whose callback data is ``data``, as the handler does."""
        return await self._in_tx("press", unpack(data))

    def next_key(self) -> str:
        """The source key of a new incoming message (its Telegram message id)."""
        self.messages += 1
        return f"msg:{self.messages}"

    async def text(self, text: str, key: str | None = None) -> Outcome:
        return await self._in_tx("text", text, key or self.next_key())

    async def edited(self, text: str, key: str) -> Outcome:
        return await self._in_tx("edited", text, key)

    async def voice(self, data: bytes, seconds: float = 3.0) -> Outcome:
        note = VoiceNote(data, "audio/ogg", seconds, self.user_id, self.next_key())
        return await self._in_tx("voice", note)

    async def consent(self, code: str) -> Outcome:
        await self.start(code)
        await self.press("ok")
        for key in CONSENT:
            outcome = await self.press(f"cy:{key}")
        return outcome

    async def to_readback(self, code: str, answer: str) -> None:
        outcome = await self.consent(code)
        await self.text(answer)
        outcome = await self.press(f"done:{prompt_of(outcome)}")
        while (prompt := prompt_of(outcome)) is not None:
            outcome = await self.press(f"skip:{prompt}")
        assert any("Your statement is ready" in s.text for s in outcome.says)

    async def send(self) -> str:
        outcome = await self.press("send")
        assert outcome.seal_statement is not None
        return outcome.seal_statement


def prompt_of(outcome: Outcome) -> str | None:
    """The prompt the outcome shows (the one its Pause button belongs to)."""
    for say in reversed(outcome.says):
        for row in say.buttons:
            for button in row:
                if button.action == "pause" and button.press.prompt:
                    return button.press.prompt
    return None


def said(outcome: Outcome) -> str:
    return "\n".join(s.text for s in outcome.says)


async def count(c: Container, model: type, *where: Any) -> int:
    async with c.sessions() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )
