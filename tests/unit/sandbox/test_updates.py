"""getUpdates: a real long poll, and Telegram's offset confirmation rules, over HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox
from tests.unit.sandbox.conftest import TOKEN, USER


async def get_updates(sandbox: RunningSandbox, **params: Any) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sandbox.url}/bot{TOKEN}/getUpdates", json=params) as response,
    ):
        body: dict[str, Any] = await response.json()
        body["status"] = response.status
        return body


async def arrived(client: SandboxClient, count: int = 1) -> dict[str, Any]:
    """The `count`-th getUpdates once the sandbox has read its parameters (it logs them before
    it waits, and a single event loop serves this look only while that request is suspended)."""
    async with asyncio.timeout(5):
        while True:
            polls = await client.requests("getUpdates")
            if len(polls) >= count and "params" in polls[count - 1]:
                return polls[count - 1]
            await asyncio.sleep(0.01)


def ids(body: dict[str, Any]) -> list[int]:
    return [u["update_id"] for u in body["result"]]


async def test_long_poll_waits_then_returns_the_new_update(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    # Given a bot long-polling an empty queue: the sandbox has read the request and holds it
    poll = asyncio.create_task(get_updates(sandbox, timeout=10))
    held = await arrived(client)
    assert "status" not in held and not poll.done()  # waiting, not answering at once

    # When a user writes
    sent = await client.send_text(USER, "hello")

    # Then the poll returns with that update well before its timeout, and the log says which
    body = await asyncio.wait_for(poll, 5)
    assert body["ok"] is True
    assert [u["message"]["text"] for u in body["result"]] == ["hello"]
    (answered,) = await client.requests("getUpdates")
    assert answered["status"] == 200 and answered["update_ids"] == [sent["update_id"]]


async def test_long_poll_times_out_with_an_empty_list(sandbox: RunningSandbox) -> None:
    started = time.monotonic()
    body = await get_updates(sandbox, timeout=1)
    assert body["result"] == []
    assert time.monotonic() - started >= 0.9


async def test_updates_stay_queued_until_a_higher_offset_confirms_them(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    for text in ("one", "two", "three"):
        await client.send_text(USER, text)
    first = ids(await get_updates(sandbox))
    assert first == [1, 2, 3]

    # Without an offset nothing is confirmed: the same updates come again.
    assert ids(await get_updates(sandbox)) == first
    # offset = last id + 1 confirms all of them.
    assert ids(await get_updates(sandbox, offset=2)) == [2, 3]
    assert ids(await get_updates(sandbox)) == [2, 3]  # 1 is gone for good
    assert ids(await get_updates(sandbox, offset=4)) == []
    assert (await client.updates())["confirmed_up_to"] == 3


async def test_a_replay_while_a_later_offset_waits_is_confirmed_not_handed_over(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    # Given a bot that has taken updates 1 and 2 and now waits with offset 3
    for text in ("one", "two"):
        await client.send_text(USER, text)
    assert ids(await get_updates(sandbox)) == [1, 2]
    poll = asyncio.create_task(get_updates(sandbox, offset=3, timeout=10))
    await arrived(client, count=2)

    # When Telegram re-delivers 1 and 2 while it waits, and then a new update arrives
    assert await client.replay_updates([1, 2]) == [1, 2]
    await client.send_text(USER, "three")

    # Then the waiting poll hands over only 3, and its offset confirms the replayed ones
    assert ids(await asyncio.wait_for(poll, 5)) == [3]
    assert ids(await get_updates(sandbox, offset=4)) == []
    assert (await client.updates())["pending"] == []


async def test_limit_and_negative_offset(sandbox: RunningSandbox, client: SandboxClient) -> None:
    for n in range(5):
        await client.send_text(USER, f"m{n}")
    assert ids(await get_updates(sandbox, limit=2)) == [1, 2]
    # -2: only the last two updates are kept; all earlier ones are forgotten.
    assert ids(await get_updates(sandbox, offset=-2)) == [4, 5]
    assert ids(await get_updates(sandbox)) == [4, 5]


async def test_a_second_poller_terminates_the_first_with_409(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    first = asyncio.create_task(get_updates(sandbox, timeout=10))
    await arrived(client)
    second = asyncio.create_task(get_updates(sandbox, timeout=1))
    terminated = await asyncio.wait_for(first, 5)
    assert terminated["status"] == 409
    assert terminated["description"].startswith("Conflict: terminated by other getUpdates")
    assert (await second)["ok"] is True


async def test_allowed_updates_keeps_unwanted_kinds_out(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    await get_updates(sandbox, allowed_updates=["message"])
    pressed_group = await client.add_bot_to_group(USER, -100, "Family")
    assert pressed_group["queued"] is False  # my_chat_member was not asked for
    kinds = [next(k for k in u if k != "update_id") for u in (await get_updates(sandbox))["result"]]
    assert kinds == ["message"]  # the service message about the bot joining


async def test_delete_webhook_can_drop_pending_updates(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    await client.send_text(USER, "stale")
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{sandbox.url}/bot{TOKEN}/deleteWebhook", data={"drop_pending_updates": "true"}
        ) as response,
    ):
        assert (await response.json())["result"] is True
    assert (await get_updates(sandbox))["result"] == []
