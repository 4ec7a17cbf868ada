"""A real aiogram Bot, unchanged, against the sandbox: every call valid, zero violations."""

from __future__ import annotations

import asyncio
from io import BytesIO

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from sandbox.client import SandboxClient
from tests.unit.sandbox.conftest import USER

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="Skip", callback_data="prompt:1:skip"),
            InlineKeyboardButton(text="Pause", callback_data="prompt:1:pause"),
        ]
    ]
)


async def test_bot_calls_round_trip_with_zero_violations(
    bot: Bot, client: SandboxClient, voice_ogg: bytes
) -> None:
    me = await bot.get_me()
    assert me.username == "casevoice_sandbox_bot" and me.is_bot

    await client.send_command(USER, "start", "abc123")
    sent = await bot.send_message(USER, "Question 1", reply_markup=KEYBOARD, protect_content=True)
    assert sent.has_protected_content is True
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump(exclude_none=True) == KEYBOARD.model_dump(exclude_none=True)

    edited = await bot.edit_message_text(
        "Question 1 (edited)", chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    assert isinstance(edited, Message) and edited.text == "Question 1 (edited)"

    pressed = await client.press_button(USER, data="prompt:1:skip")
    assert await bot.answer_callback_query(pressed["callback_query"]["id"], text="Skipped")

    voice = await client.send_voice(USER, voice_ogg, duration=2)
    file_id = voice["message"]["voice"]["file_id"]
    buffer = BytesIO()
    await bot.download(file_id, destination=buffer)
    assert buffer.getvalue() == voice_ogg

    document = await bot.send_document(
        USER, BufferedInputFile(b"receipt: 3F2A", filename="receipt.txt"), protect_content=True
    )
    assert document.document is not None and document.document.file_name == "receipt.txt"
    assert await client.file_bytes(document.document.file_id) == b"receipt: 3F2A"

    await bot.send_chat_action(USER, "typing")
    await bot.set_my_commands([BotCommand(command="help", description="Get help")])
    assert [c.command for c in await bot.get_my_commands()] == ["help"]
    await bot.set_my_description("A review bot")
    await bot.set_my_short_description("Review")
    chat = await bot.get_chat(USER)
    assert chat.id == USER
    assert await bot.delete_message(USER, sent.message_id)
    assert await bot.delete_webhook()

    view = await client.chat(USER)
    bot_messages = [m for m in view["messages"] if m["from_bot"]]
    assert [m["protect_content"] for m in bot_messages] == [True, True]
    assert bot_messages[0]["deleted"] and bot_messages[0]["edit_count"] == 1
    assert view["actions"][0]["action"] == "typing"
    [answer] = await client.callback_answers()
    assert answer["answer"]["text"] == "Skipped"
    assert await client.violations() == []
    assert await client.errors() == []


async def test_telegram_errors_reach_aiogram_as_its_exceptions(
    bot: Bot, client: SandboxClient
) -> None:
    await client.send_command(USER, "start")
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, 99)
    await client.inject_fault("429", method="sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "hello")
    assert caught.value.retry_after == 3
    assert await client.violations() == []


async def test_a_polling_dispatcher_talks_to_a_user(bot: Bot, client: SandboxClient) -> None:
    router = Router()

    @router.message(CommandStart(deep_link=True))
    async def on_start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Welcome, code {command.args}", reply_markup=KEYBOARD,
                             protect_content=True)  # fmt: skip

    @router.callback_query(F.data == "prompt:1:skip")
    async def on_skip(query: CallbackQuery) -> None:
        await query.answer("Skipped")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Skipped question 1")

    @router.message(F.voice)
    async def on_voice(message: Message, bot: Bot) -> None:
        assert message.voice is not None
        audio = BytesIO()
        await bot.download(message.voice.file_id, destination=audio)
        await message.answer(f"Got {len(audio.getvalue())} bytes")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_signals=False, polling_timeout=1, close_bot_session=False
        )
    )
    try:
        await client.send_command(USER, "start", "INVITE_code-1")
        welcome = await client.wait_for_bot_message(USER, contains="Welcome", timeout=10)
        assert welcome["text"] == "Welcome, code INVITE_code-1" and welcome["protect_content"]

        await client.press_button(USER, text="Skip")
        edited = await client.wait_for_bot_message(
            USER, predicate=lambda m: m["text"] == "Skipped question 1", timeout=10
        )
        assert edited["message_id"] == welcome["message_id"] and edited["buttons"] == []

        ogg = b"OggS" + bytes(100)
        await client.send_voice(USER, ogg, duration=1)
        reply = await client.wait_for_bot_message(USER, contains="bytes", timeout=10)
        assert reply["text"] == f"Got {len(ogg)} bytes"
        await client.wait_for_updates_confirmed(timeout=10)
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 10)
    assert await client.violations() == []
