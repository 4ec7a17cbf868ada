"""Fixtures: a sandbox on a real port, its control client, and an aiogram Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox, create_app, start_sandbox
from sandbox.spec import ApiSpec
from tests.fixtures import clip

TOKEN = "123456789:AAE-sandbox-test-token-0123456789abc"
USER = 4242


@pytest.fixture(scope="session")
def spec() -> ApiSpec:
    return ApiSpec.load()  # the copy shipped in the package


@pytest.fixture
def voice_ogg() -> bytes:
    return clip("real_goforward")


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
