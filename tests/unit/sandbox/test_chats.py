"""What users do and how Telegram's rules about messages are kept (48 h, edits, groups)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from sandbox.client import SandboxClient
from sandbox.server import RunningSandbox
from sandbox.spec import ApiSpec
from tests.unit.sandbox.conftest import TOKEN, USER

HOURS = 3600


async def call(sandbox: RunningSandbox, method: str, **params: Any) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sandbox.url}/bot{TOKEN}/{method}", json=params) as response,
    ):
        body: dict[str, Any] = await response.json()
        return body


async def test_delete_refuses_messages_older_than_48_hours(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    # Given a user's message and a bot reply
    incoming = await client.send_text(USER, "my answer")
    sent = (await call(sandbox, "sendMessage", chat_id=USER, text="thanks"))["result"]

    # When 47 hours pass, both can still be deleted (bots may delete incoming private messages)
    await client.advance_clock(47 * HOURS)
    assert (await call(sandbox, "deleteMessage", chat_id=USER, message_id=sent["message_id"]))["ok"]

    # But after 48 hours the user's message is out of reach
    await client.advance_clock(1 * HOURS)
    refused = await call(sandbox, "deleteMessage", chat_id=USER, message_id=incoming["message_id"])
    assert refused["description"] == "Bad Request: message can't be deleted for everyone"
    view = {m["message_id"]: m for m in await client.messages(USER)}
    assert view[sent["message_id"]]["deleted"] is True
    assert view[incoming["message_id"]]["deleted"] is False
    assert await client.violations() == []


async def test_delete_messages_skips_what_it_cannot_delete(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    old = await client.send_text(USER, "old")
    await client.advance_clock(49 * HOURS)
    new = await client.send_text(USER, "new")
    ids = [old["message_id"], new["message_id"], 999]
    assert (await call(sandbox, "deleteMessages", chat_id=USER, message_ids=ids))["result"] is True
    deleted = {m["message_id"]: m["deleted"] for m in await client.messages(USER)}
    assert deleted == {old["message_id"]: False, new["message_id"]: True}
    again = await call(sandbox, "deleteMessage", chat_id=USER, message_id=new["message_id"])
    assert again["description"] == "Bad Request: message to delete not found"


async def test_edit_text_replaces_content_and_keyboard(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    await client.send_command(USER, "start")
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    sent = (await call(sandbox, "sendMessage", chat_id=USER, text="v1", reply_markup=markup))[
        "result"
    ]
    mid = sent["message_id"]

    same = await call(sandbox, "editMessageText", chat_id=USER, message_id=mid, text="v1",
                      reply_markup=markup)  # fmt: skip
    assert same["description"].startswith("Bad Request: message is not modified")

    edited = await call(sandbox, "editMessageText", chat_id=USER, message_id=mid, text="v2")
    assert edited["result"]["text"] == "v2" and "edit_date" in edited["result"]
    assert "reply_markup" not in edited["result"]  # editing without a markup drops the keyboard
    [view] = await client.bot_messages(USER)
    assert (view["text"], view["edit_count"], view["history"][0]["text"]) == ("v2", 1, "v1")

    users_own = await call(sandbox, "editMessageText", chat_id=USER, message_id=1, text="x")
    assert users_own["description"] == "Bad Request: message can't be edited"


async def test_a_blocked_bot_gets_403(sandbox: RunningSandbox, client: SandboxClient) -> None:
    await client.send_command(USER, "start")
    await client.block_bot(USER)
    body = await call(sandbox, "sendMessage", chat_id=USER, text="hello?")
    assert (body["error_code"], body["description"]) == (
        403,
        "Forbidden: bot was blocked by the user",
    )


async def test_group_chats_and_membership(sandbox: RunningSandbox, client: SandboxClient) -> None:
    joined = await client.add_bot_to_group(USER, -1001, "Family group")
    member = joined["my_chat_member"]
    assert member["chat"] == {"id": -1001, "type": "group", "title": "Family group"}
    assert member["new_chat_member"]["status"] == "member"
    said = await client.send_text(USER, "hi all", chat_id=-1001)
    assert said["message"]["chat"]["type"] == "group"
    assert said["queued"] is False and said["reason"].startswith("privacy mode")
    command = await client.send_command(USER, "start", chat_id=-1001)
    assert command["queued"] is True
    # A bot that is not an admin may not delete other people's group messages.
    body = await call(sandbox, "deleteMessage", chat_id=-1001, message_id=said["message_id"])
    assert body["description"] == "Bad Request: message can't be deleted"
    assert (await call(sandbox, "leaveChat", chat_id=-1001))["result"] is True
    body = await call(sandbox, "sendMessage", chat_id=-1001, text="still here?")
    assert body["error_code"] == 403


async def test_a_group_without_the_bot_cannot_reach_it(client: SandboxClient) -> None:
    with pytest.raises(Exception, match="add_bot_to_group first"):
        await client.send_command(USER, "start", chat_id=-77)


async def test_a_queued_update_is_a_snapshot(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    await client.send_command(USER, "start")
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await call(sandbox, "sendMessage", chat_id=USER, text="before", reply_markup=markup)
    await client.press_button(USER, data="a")
    await call(sandbox, "editMessageText", chat_id=USER, message_id=sent["result"]["message_id"],
               text="after")  # fmt: skip
    pending = (await client.updates())["pending"]
    assert pending[-1]["callback_query"]["message"]["text"] == "before"


async def test_forwarded_messages_carry_their_origin(client: SandboxClient) -> None:
    hidden = await client.send_forwarded(USER, "copied", sender_name="Anon")
    assert hidden["message"]["forward_origin"]["type"] == "hidden_user"
    known = await client.send_forwarded(USER, "copied", from_user_id=777)
    assert known["message"]["forward_origin"]["sender_user"]["id"] == 777


async def test_pressing_a_button_needs_that_button(
    sandbox: RunningSandbox, client: SandboxClient
) -> None:
    await client.send_command(USER, "start")
    markup = {"inline_keyboard": [[{"text": "Skip", "callback_data": "skip"}]]}
    await call(sandbox, "sendMessage", chat_id=USER, text="Q1", reply_markup=markup)
    pressed = await client.press_button(USER, text="Skip")
    query = pressed["callback_query"]
    assert query["data"] == "skip" and query["message"]["text"] == "Q1"
    with pytest.raises(Exception, match="no inline button"):
        await client.press_button(USER, data="nope")
    assert (await call(sandbox, "answerCallbackQuery", callback_query_id=query["id"]))["ok"]
    twice = await call(sandbox, "answerCallbackQuery", callback_query_id=query["id"])
    assert twice["description"].startswith("Bad Request: query is too old")


async def test_every_update_the_sandbox_makes_is_a_valid_telegram_object(
    sandbox: RunningSandbox, client: SandboxClient, spec: ApiSpec, voice_ogg: bytes
) -> None:
    await client.send_command(USER, "start", "invite-code_1", first_name="Ann", language_code="en")
    markup = {"inline_keyboard": [[{"text": "Skip", "callback_data": "skip"}]]}
    await call(sandbox, "sendMessage", chat_id=USER, text="Q", reply_markup=markup,
               protect_content=True)  # fmt: skip
    await client.press_button(USER, data="skip")
    await client.send_voice(USER, voice_ogg, duration=2)
    await client.send_audio(USER, b"ID3 fake", duration=3)
    await client.send_audio(USER, b"ID3 fake", duration=3, as_document=True, file_name="a.m4a")
    await client.send_document(USER, b"%PDF", "notes.pdf")
    await client.send_forwarded(USER, "fwd", from_user_id=5)
    await client.add_bot_to_group(USER, -5, "G")
    await client.send_command(USER, "start", chat_id=-5)
    await client.block_bot(USER)
    pending = (await client.updates())["pending"]
    assert len(pending) == 11
    for update in pending:
        assert spec.validate_object("Update", update) == [], update
    voice = pending[2]["message"]["voice"]
    assert voice["mime_type"] == "audio/ogg" and voice["file_size"] == len(voice_ogg)
    assert await client.file_bytes(voice["file_id"]) == voice_ogg
