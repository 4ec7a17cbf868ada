"""The rehearsal page's routes: the static page, its config, and the live chat feed."""

from __future__ import annotations

import asyncio

import aiohttp
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox, create_app, start_sandbox
from sandbox.spec import ApiSpec
from sandbox.web import PERSON_URL_KEY
from tests.unit.sandbox.conftest import USER


async def get_json(url: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200, await response.text()
        data: dict[str, object] = await response.json()
        return data


async def test_the_page_is_served_with_nothing_from_elsewhere(sandbox: RunningSandbox) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.url}/rehearse/") as page:
            html = await page.text()
            policy = page.headers["Content-Security-Policy"]
        for asset in ("app.js", "style.css"):
            async with http.get(f"{sandbox.url}/rehearse/{asset}") as response:
                assert response.status == 200
    assert page.status == 200 and 'role="log"' in html
    assert "default-src 'self'" in policy
    assert "http://" not in html and "https://" not in html, "the page fetches nothing outside"


async def test_config_names_the_person_endpoint_only_when_a_host_set_one(
    sandbox: RunningSandbox, spec: ApiSpec
) -> None:
    assert (await get_json(f"{sandbox.url}/rehearse/api/config"))["person_url"] is None
    app = create_app(spec=spec)
    app[PERSON_URL_KEY] = "/rehearse/api/new-person"  # as `casevoice rehearse` does
    async with await start_sandbox(app=app) as hosted:
        config = await get_json(f"{hosted.url}/rehearse/api/config")
    assert config["person_url"] == "/rehearse/api/new-person"


async def test_the_feed_answers_when_the_bot_sends_edits_or_deletes(
    sandbox: RunningSandbox, client: SandboxClient, bot: Bot
) -> None:
    # Given a person who wrote to the bot
    await client.send_text(USER, "hello")
    feed = f"{sandbox.url}/rehearse/api/chats/{USER}"
    first = await get_json(feed)
    assert [m["text"] for m in first["messages"]] == ["hello"]  # type: ignore[index, union-attr]

    # When the bot answers with a button while the page waits
    waiting = asyncio.create_task(get_json(f"{feed}?since={first['version']}&timeout=10"))
    await asyncio.sleep(0.1)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Yes", callback_data="y"),
                InlineKeyboardButton(text="No", callback_data="n"),
            ]
        ]
    )
    sent = await bot.send_message(USER, "Ready?", reply_markup=keyboard)
    second = await asyncio.wait_for(waiting, 5)

    # Then the feed shows it, with its buttons in rows; an edit and a deletion show too
    message = second["messages"][-1]  # type: ignore[index]
    assert message["text"] == "Ready?" and message["from_bot"]
    assert message["buttons"] == [
        [{"text": "Yes", "data": "y", "url": None}, {"text": "No", "data": "n", "url": None}]
    ]
    await bot.edit_message_text("Ready now?", chat_id=USER, message_id=sent.message_id)
    third = await get_json(f"{feed}?since={second['version']}&timeout=5")
    assert third["messages"][-1]["edits"] == 1  # type: ignore[index]
    assert third["messages"][-1]["text"] == "Ready now?"  # type: ignore[index]
    await bot.delete_message(USER, sent.message_id)
    fourth = await get_json(f"{feed}?since={third['version']}&timeout=5")
    assert [m["text"] for m in fourth["messages"]] == ["hello"]  # type: ignore[index, union-attr]


async def test_an_unknown_chat_is_empty_not_an_error(sandbox: RunningSandbox) -> None:
    view = await get_json(f"{sandbox.url}/rehearse/api/chats/987654?timeout=0")
    assert view["messages"] == [] and view["action"] is None
