"""Fixtures: a sandbox on a real port, its control client, and an aiogram Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox, create_app, start_sandbox
from sandbox.spec import ApiSpec

TOKEN = "123456789:AAE-sandbox-test-token-0123456789abc"
USER = 4242


def shared_dir() -> Path:
    """`shared/` beside the repository: walk up from here looking for `shared/audio`."""
    for directory in Path(__file__).resolve().parents:
        if (directory / "shared" / "audio").is_dir():
            return directory / "shared"
    return Path("/work/shared")


@pytest.fixture(scope="session")
def spec() -> ApiSpec:
    return ApiSpec.load(shared_dir() / "telegram-bot-api" / "api.json")


@pytest.fixture
def voice_ogg() -> bytes:
    return (shared_dir() / "audio" / "real_goforward.ogg").read_bytes()


@pytest.fixture
async def sandbox(spec: ApiSpec) -> AsyncIterator[RunningSandbox]:
    running = await start_sandbox(app=create_app(spec=spec))
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def client(sandbox: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url) as control:
        yield control


@pytest.fixture
async def bot(sandbox: RunningSandbox) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
    real_bot = Bot(TOKEN, session=session)
    try:
        yield real_bot
    finally:
        await session.close()
