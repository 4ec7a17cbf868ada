"""The update runner and its inbox on SQLite and PostgreSQL: the real runner, dispatcher,
handlers and services in this process, long-polling the sandbox Bot API over HTTP.

Commit before acknowledging, one lane per chat (in order), chats side by side (truly
concurrent on PostgreSQL), re-deliveries ignored, updates left pending by a crash handled at
start, and nothing acknowledged while the inbox cannot be written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiogram import Bot
from sqlalchemy import text
from sqlmodel import col, select

from bot.app import build_bot
from bot.container import Container
from bot.dispatcher import build_dispatcher
from bot.runner import UpdateRunner, chat_id_of
from interview.services import phrases as P
from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox, start_sandbox
from storage.db import writing
from storage.inbox import InboxUpdate, Incoming
from storage.tables import Answer, AuditEvent, Interview
from storage.tables import Participant as ParticipantRow
from tests.e2e.people import Person
from tests.e2e.world import TOKEN, until
from tests.integration.conversation import CASE, count, opened_container


@dataclass
class Running:
    """The bot's parts in this process; `start` and `stop` the runner as a restart would."""

    c: Container
    bot: Bot
    sandbox: RunningSandbox
    client: SandboxClient
    runner: UpdateRunner | None = None
    task: asyncio.Task[None] | None = None
    stop_event: asyncio.Event | None = None

    def start(self) -> None:
        assert self.task is None, "already running"
        dp = build_dispatcher(self.c.sessions, self.c.inbox, self.c.vault, self.c.conversation)
        self.runner = UpdateRunner(
            self.bot, dp, self.c.sessions, self.c.inbox, self.c.vault, poll_timeout=1,
            retry_delay=0.05,
        )  # fmt: skip
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(self.runner.run(self.stop_event))

    async def stop(self) -> None:
        if self.task is not None and self.stop_event is not None:
            self.stop_event.set()
            await self.task
        self.task = None

    async def invite(self, role: str = "family") -> str:
        return (await self.c.invites.create(CASE, role)).code

    async def inbox_states(self, update_ids: list[int]) -> dict[int, str]:
        async with self.c.sessions() as session:
            rows = await session.execute(
                select(InboxUpdate.update_id, InboxUpdate.state).where(
                    col(InboxUpdate.update_id).in_(update_ids)
                )
            )
            return {int(u): str(s) for u, s in rows.all()}

    async def settled(self, person: Person) -> bool:
        """Telegram holds nothing unacknowledged and the inbox has handled all of `person`'s."""
        if (await self.client.updates())["pending"]:
            return False
        states = await self.inbox_states(person.updates)
        return len(states) == len(person.updates) and set(states.values()) == {"done"}


@pytest.fixture
async def running(tmp_path: Path, data_dir: Path, db_url: str) -> AsyncIterator[Running]:
    sandbox = await start_sandbox()
    client = SandboxClient(sandbox.url)
    async with opened_container(
        data_dir, db_url, tmp_path / "reviewer.txt", telegram_api=sandbox.url, bot_token=TOKEN
    ) as c:
        world = Running(c, build_bot(c.settings), sandbox, client)
        try:
            yield world
        finally:
            await world.stop()
            await world.bot.session.close()
            violations = await client.violations()
            await client.close()
            await sandbox.close()
    assert violations == [], violations


async def interview_id_of(r: Running, person: Person) -> str:
    user_hash = r.c.vault.user_hash(person.user_id)
    async with r.c.sessions() as session:
        found = await session.execute(
            select(Interview.id)
            .join(ParticipantRow, col(ParticipantRow.id) == Interview.participant_id)
            .where(col(ParticipantRow.user_hash) == user_hash)
        )
        return str(found.scalar_one())


async def answer_keys(r: Running, interview_id: str) -> list[str]:
    """The source keys (Telegram message ids) of the person's active parts, in stored order."""
    async with r.c.sessions() as session:
        rows = await session.execute(
            select(Answer.source_key)
            .where(col(Answer.interview_id) == interview_id, col(Answer.status) == "active")
            .order_by(col(Answer.seq))
        )
        return [str(k) for k in rows.scalars()]


async def test_chats_run_side_by_side_and_each_chat_in_order(running: Running) -> None:
    # Given five people at their first question, the bot running
    running.start()
    people = [Person(running.client, 778000100 + n) for n in range(5)]
    codes = [await running.invite() for _ in people]
    await asyncio.gather(*(p.consent(code) for p, code in zip(people, codes, strict=True)))

    # When all of them send four messages at once, without waiting for the replies
    for n in range(4):
        for person in people:
            await person.say(f"part {n}", expect=None)

    # Then every update was stored, handled once, and each chat's parts are in sent order
    for person in people:
        await until(lambda p=person: running.settled(p), timeout=30)
        interview_id = await interview_id_of(running, person)
        assert await answer_keys(running, interview_id) == [f"msg:{m}" for m in person.sent]
        saved = [m for m in await person.bot_messages() if m["text"] == P.SAVED]
        assert len(saved) == 4


async def test_a_redelivered_update_changes_nothing(running: Running) -> None:
    # Given a person with two answers, handled and acknowledged
    running.start()
    person = Person(running.client, 778000201)
    await person.consent(await running.invite())
    await person.say("first")
    await person.say("second")
    await until(lambda: running.settled(person))
    interview_id = await interview_id_of(running, person)
    before = (
        await answer_keys(running, interview_id),
        await count(running.c, AuditEvent),
        len(await person.bot_messages()),
    )

    # When the bot restarts (its offset forgotten) and Telegram delivers all of it again
    await running.stop()
    assert sorted(await running.client.replay_updates(person.updates)) == sorted(person.updates)
    running.start()
    await running.client.wait_for_updates_confirmed()

    # Then, once the chat's lane has handled something after them, nothing has changed
    await person.command("resume", expect=P.WELCOME_BACK)
    after = (
        await answer_keys(running, interview_id),
        await count(running.c, AuditEvent),
        len(await person.bot_messages()) - 2,  # "Welcome back" and the question again
    )
    assert after == before


async def test_updates_left_pending_by_a_crash_are_handled_at_start(running: Running) -> None:
    # Given updates the bot committed to its inbox and acknowledged, then crashed before
    # handling (exactly what the runner's first step leaves)
    person = Person(running.client, 778000301)
    code = await running.invite()
    await running.client.send_command(person.user_id, "start", code)
    batch = await running.bot.get_updates(timeout=0)
    assert len(batch) == 1
    async with writing(running.c.sessions) as session:
        stored = await running.c.inbox.store(
            session,
            [
                Incoming(
                    u.update_id,
                    running.c.vault.chat_hash(chat_id_of(u)),
                    u.model_dump(mode="json", exclude_none=True, by_alias=True),
                )
                for u in batch
            ],
        )
    assert stored == [batch[0].update_id]
    await running.bot.get_updates(offset=batch[0].update_id + 1, timeout=0)
    assert (await running.client.updates())["pending"] == []
    assert await running.inbox_states(stored) == {stored[0]: "pending"}

    # When the bot starts, it handles them from the inbox (Telegram will not send them again)
    running.start()
    await person.wait_for_button("ok", after=0)
    assert await running.inbox_states(stored) == {stored[0]: "done"}
    assert await count(running.c, ParticipantRow, col(ParticipantRow.user_hash).is_not(None)) == 1


async def test_nothing_is_acknowledged_while_the_inbox_cannot_be_written(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a person at their first question, and then the inbox table gone (a storage fault)
    running.start()
    person = Person(running.client, 778000401)
    await person.consent(await running.invite())
    async with writing(running.c.sessions) as session:
        await session.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))

    # When they answer, the bot cannot commit the update: it says so and does not acknowledge it
    caplog.set_level(logging.ERROR, logger="bot.runner")
    await person.say("kept for later", expect=None)
    held = person.updates[-1]
    await until(lambda: any("inbox unavailable" in r.getMessage() for r in caplog.records))
    assert held in {u["update_id"] for u in (await running.client.updates())["pending"]}
    interview_id = await interview_id_of(running, person)
    assert await answer_keys(running, interview_id) == []

    # Then once storage is back, the same update is taken, handled and answered, once
    async with writing(running.c.sessions) as session:
        await session.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
    await person.wait(P.SAVED, after=0)
    await until(lambda: running.settled(person))
    assert await answer_keys(running, interview_id) == [f"msg:{person.sent[-1]}"]
