"""The Bot API over HTTP: body formats, violations recorded, faults delivered."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox
from tests.unit.sandbox.conftest import TOKEN, USER


async def call(
    sandbox: RunningSandbox, method: str, *, form: dict[str, str] | None = None, **params: Any
) -> tuple[int, dict[str, Any]]:
    url = f"{sandbox.url}/bot{TOKEN}/{method}"
    async with aiohttp.ClientSession() as http:
        kwargs: dict[str, Any] = {"data": form} if form is not None else {"json": params}
        async with http.post(url, **kwargs) as response:
            return response.status, await response.json()


@pytest.fixture
async def chat(client: SandboxClient) -> int:
    await client.send_command(USER, "start")
    return USER


async def test_json_and_form_bodies_are_both_understood(
    sandbox: RunningSandbox, client: SandboxClient, chat: int
) -> None:
    markup = {"inline_keyboard": [[{"text": "Skip", "callback_data": "skip"}]]}
    status, body = await call(
        sandbox, "sendMessage", chat_id=chat, text="json", reply_markup=markup
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    form = {"chat_id": str(chat), "text": "form", "reply_markup": json.dumps(markup)}
    status, body = await call(sandbox, "sendMessage", form=form)
    assert status == 200 and body["result"]["text"] == "form"
    assert body["result"]["message_id"] == 3  # per-chat ids: /start was 1
    assert await client.violations() == []


async def test_missing_field_is_a_400_and_a_recorded_violation(
    sandbox: RunningSandbox, client: SandboxClient, chat: int
) -> None:
    status, body = await call(sandbox, "sendMessage", chat_id=chat)
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: required parameter 'text' is missing",
    }
    [violation] = await client.violations()
    assert violation["method"] == "sendMessage"
    assert violation["problems"] == ["required parameter 'text' is missing"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"text": 5}, "text: expected String"),
        ({"text": "x" * 4097}, "too long"),
        (
            {
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "d" * 65}]]},
            },
            "callback_data must be 1-64 bytes",
        ),
    ],
)
async def test_invalid_requests_are_violations(
    sandbox: RunningSandbox, client: SandboxClient, chat: int, params: dict[str, Any], fragment: str
) -> None:
    status, body = await call(sandbox, "sendMessage", chat_id=chat, **params)
    assert status == 400 and fragment in body["description"]
    assert len(await client.violations()) == 1
    assert (await client.bot_messages(chat)) == []  # nothing was sent


async def test_unknown_and_unimplemented_methods(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    status, _ = await call(sandbox, "sendTelepathy")
    assert status == 404
    status, body = await call(sandbox, "sendDice", chat_id=1)
    assert status == 501 and "sendDice" in body["description"]
    problems = [v["problems"][0] for v in await client.violations()]
    assert problems == [
        "unknown method 'sendTelepathy'",
        "sendDice is not implemented by the sandbox",
    ]


async def test_refusals_that_are_not_the_bots_fault_are_errors_only(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    status, body = await call(sandbox, "sendMessage", chat_id=999, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    assert await client.violations() == []
    assert [e["description"] for e in await client.errors()] == ["Bad Request: chat not found"]


async def test_429_carries_retry_after(sandbox: RunningSandbox, client: SandboxClient) -> None:
    await client.inject_fault("429", method="getMe", retry_after=7)
    status, body = await call(sandbox, "getMe")
    assert status == 429 and body["parameters"] == {"retry_after": 7}
    assert (await call(sandbox, "getMe"))[0] == 200  # one fault, one delivery


@pytest.mark.parametrize("kind", ["500", "502"])
async def test_server_errors_are_delivered_n_times(
    sandbox: RunningSandbox, client: SandboxClient, kind: str
) -> None:
    await client.inject_fault(kind, count=2)
    statuses = [(await call(sandbox, "getMe"))[0] for _ in range(3)]
    assert statuses == [int(kind), int(kind), 200]
    assert (await client.counts())["getMe"] == 3


async def test_faults_for_another_method_leave_this_one_alone(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    await client.inject_fault("500", method="sendMessage")
    assert (await call(sandbox, "getMe"))[0] == 200
    assert len((await client.faults())["pending"]) == 1


async def test_delay_holds_the_answer(sandbox: RunningSandbox, client: SandboxClient) -> None:
    await client.inject_fault("delay", seconds=0.5)
    started = time.monotonic()
    assert (await call(sandbox, "getMe"))[0] == 200
    assert time.monotonic() - started >= 0.5


async def test_drop_closes_the_connection_without_processing(
    sandbox: RunningSandbox, client: SandboxClient, chat: int
) -> None:
    await client.inject_fault("drop", method="sendMessage")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(sandbox, "sendMessage", chat_id=chat, text="lost")
    assert await client.bot_messages(chat) == []


async def test_drop_after_processes_then_loses_the_answer(
    sandbox: RunningSandbox, client: SandboxClient, chat: int
) -> None:
    await client.inject_fault("drop_after", method="sendMessage")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(sandbox, "sendMessage", chat_id=chat, text="sent but unacknowledged")
    [message] = await client.bot_messages(chat)
    assert message["text"] == "sent but unacknowledged"


async def test_any_token_is_accepted_and_recorded(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{sandbox.url}/botOTHER/getMe") as r:
        assert r.status == 200
    await call(sandbox, "getMe")
    assert (await client.bot_info())["tokens"] == ["OTHER", TOKEN]
    assert [r["token"] for r in await client.requests("getMe")] == ["OTHER", TOKEN]


async def test_wait_for_bot_message_long_polls(
    sandbox: RunningSandbox, client: SandboxClient, chat: int
) -> None:
    waiter = asyncio.create_task(client.wait_for_bot_message(chat, contains="later", timeout=5))
    await asyncio.sleep(0.2)
    await call(sandbox, "sendMessage", chat_id=chat, text="not this")
    await call(sandbox, "sendMessage", chat_id=chat, text="see you later")
    found = await asyncio.wait_for(waiter, 5)
    assert found["text"] == "see you later"
    with pytest.raises(Exception, match="408"):
        await client.wait_for_bot_message(chat, contains="never", timeout=0.2)


async def test_file_downloads_can_fail_too(
    sandbox: RunningSandbox, client: SandboxClient, voice_ogg: bytes
) -> None:
    voice = await client.send_voice(USER, voice_ogg, duration=2)
    _, body = await call(sandbox, "getFile", file_id=voice["message"]["voice"]["file_id"])
    url = f"{sandbox.url}/file/bot{TOKEN}/{body['result']['file_path']}"
    await client.inject_fault("502", method="download")
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as failed:
            assert failed.status == 502
        async with http.get(url) as ok:
            assert await ok.read() == voice_ogg
    assert (await client.counts())["download"] == 2


async def test_an_unreadable_body_is_a_violation(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{sandbox.url}/bot{TOKEN}/getMe",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 400
    assert "can't parse request body" in (await client.violations())[0]["description"]
