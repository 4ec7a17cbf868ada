"""Answers are valid Bot API objects; reset and shutdown never leave a poll hanging."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox, create_app, start_sandbox
from sandbox.spec import ApiSpec
from tests.unit.sandbox.conftest import TOKEN, USER


async def call(sandbox: RunningSandbox, method: str, **params: Any) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sandbox.url}/bot{TOKEN}/{method}", json=params) as response,
    ):
        body = await response.json()
        assert body["ok"], body
        return body["result"]


async def test_results_match_the_declared_return_types(
    sandbox: RunningSandbox, client: SandboxClient, spec: ApiSpec, voice_ogg: bytes
) -> None:
    await client.send_command(USER, "start")
    voice = await client.send_voice(USER, voice_ogg, duration=2)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await call(sandbox, "sendMessage", chat_id=USER, text="<b>Q</b>", parse_mode="HTML",
                      reply_markup=markup, protect_content=True,
                      reply_parameters={"message_id": 1})  # fmt: skip
    results = {
        "getMe": await call(sandbox, "getMe"),
        "sendMessage": sent,
        "editMessageText": await call(sandbox, "editMessageText", chat_id=USER,
                                      message_id=sent["message_id"], text="Q2"),
        "editMessageReplyMarkup": await call(sandbox, "editMessageReplyMarkup", chat_id=USER,
                                             message_id=sent["message_id"], reply_markup=markup),
        "sendPhoto": await call(sandbox, "sendPhoto", chat_id=USER,
                                photo=voice["message"]["voice"]["file_id"]),
        "getFile": await call(sandbox, "getFile", file_id=voice["message"]["voice"]["file_id"]),
        "getChat": await call(sandbox, "getChat", chat_id=USER),
        "getMyCommands": await call(sandbox, "getMyCommands"),
        "getWebhookInfo": await call(sandbox, "getWebhookInfo"),
        "getUpdates": await call(sandbox, "getUpdates"),
    }  # fmt: skip
    for method, result in results.items():
        assert spec.validate_result(method, result) == [], method
    assert sent["text"] == "Q" and sent["has_protected_content"] is True
    assert sent["reply_to_message"]["text"] == "/start"


async def test_reset_releases_a_waiting_poll_and_update_ids_keep_rising(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    await client.send_text(USER, "before")
    first = await call(sandbox, "getUpdates")
    poll = asyncio.create_task(call(sandbox, "getUpdates", offset=2, timeout=20))
    await asyncio.sleep(0.2)

    await client.reset()

    assert await asyncio.wait_for(poll, 3) == []
    after = await client.send_text(USER, "after")
    assert after["update_id"] > first[-1]["update_id"]  # a bot's old offset cannot swallow it
    assert [u["message"]["text"] for u in await call(sandbox, "getUpdates", offset=2)] == ["after"]


async def test_closing_the_server_answers_long_polls_at_once(spec: ApiSpec) -> None:
    running = await start_sandbox(app=create_app(spec=spec))
    poll = asyncio.create_task(call(running, "getUpdates", timeout=30))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await running.close()
    assert await asyncio.wait_for(poll, 3) == []
    assert time.monotonic() - started < 3
