"""Turn a domain ``Outcome`` into queued Bot API calls (sent after the commit)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callbacks import pack
from handlers.outbox import Outbox
from interview.services.replies import Outcome, Say

DELETE_BATCH = 100


def markup(say: Say) -> InlineKeyboardMarkup | None:
    if not say.buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=pack(b.press)) for b in row]
            for row in say.buttons
        ]
    )


def queue_send(outbox: Outbox, chat_id: int, say: Say) -> None:
    async def send(bot: Bot) -> int:
        message = await bot.send_message(chat_id, say.text, reply_markup=markup(say))
        return message.message_id

    outbox.add("sendMessage", send)


def queue_delete(outbox: Outbox, chat_id: int, message_ids: list[int]) -> None:
    for start in range(0, len(message_ids), DELETE_BATCH):
        batch = message_ids[start : start + DELETE_BATCH]

        async def delete(bot: Bot, batch: list[int] = batch) -> None:
            if len(batch) == 1:
                await bot.delete_message(chat_id, batch[0])
            else:
                await bot.delete_messages(chat_id, batch)

        outbox.add("deleteMessages", delete)


def apply(
    outcome: Outcome,
    outbox: Outbox,
    chat_id: int,
    *,
    incoming_message_id: int | None = None,
    callback: CallbackQuery | None = None,
) -> None:
    if callback is not None:
        toast = outcome.toast

        async def answer(bot: Bot) -> None:
            await bot.answer_callback_query(callback.id, text=toast)

        outbox.add("answerCallbackQuery", answer)
        message = callback.message
        if message is not None:
            message_id = message.message_id
            edit = outcome.edit_pressed
            if edit is not None:

                async def edit_text(bot: Bot) -> None:
                    await bot.edit_message_text(
                        edit.text, chat_id=chat_id, message_id=message_id, reply_markup=markup(edit)
                    )

                outbox.add("editMessageText", edit_text)
            elif outcome.clear_pressed:

                async def clear(bot: Bot) -> None:
                    await bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=message_id, reply_markup=None
                    )

                outbox.add("editMessageReplyMarkup", clear)
    if outcome.delete_incoming and incoming_message_id is not None:
        queue_delete(outbox, chat_id, [incoming_message_id])
    for say in outcome.says:
        queue_send(outbox, chat_id, say)
    if outcome.leave_chat:

        async def leave(bot: Bot) -> None:
            await bot.leave_chat(chat_id)

        outbox.add("leaveChat", leave)
