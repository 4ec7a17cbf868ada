"""Methods that send, edit and delete messages, and hand out files."""

from __future__ import annotations

from typing import Any

from sandbox.files import DOWNLOAD_LIMIT
from sandbox.methods import (
    ApiError,
    Call,
    delete_one,
    deletion_refusal,
    edit_bot_message,
    image_size,
    method,
    own_message,
    post_bot_message,
    resolve_chat,
    stored_file,
    visible,
    with_caption,
    writable_chat,
)


@method("sendMessage")
async def send_message(call: Call, p: dict[str, Any]) -> Any:
    content: dict[str, Any] = {"text": visible(p["text"], p.get("parse_mode"))}
    if p.get("entities"):
        content["entities"] = p["entities"]
    return post_bot_message(call, p, content)


@method("sendDocument")
async def send_document(call: Call, p: dict[str, Any]) -> Any:
    writable_chat(call, p["chat_id"])
    stored = stored_file(call, p["document"], "document")
    return post_bot_message(call, p, with_caption(p, {"document": stored.summary()}))


@method("sendPhoto")
async def send_photo(call: Call, p: dict[str, Any]) -> Any:
    writable_chat(call, p["chat_id"])
    stored = stored_file(call, p["photo"], "photo")
    width, height = image_size(stored.data)
    size = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": width,
        "height": height,
        "file_size": stored.size,
    }
    return post_bot_message(call, p, with_caption(p, {"photo": [size]}))


@method("editMessageText")
async def edit_message_text(call: Call, p: dict[str, Any]) -> Any:
    stored = own_message(call, p, "message to edit not found")
    if not stored.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited")
    if "text" not in stored.api:
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    if "text" not in p:
        raise ApiError(
            400, "Bad Request: text is required (rich_message is not supported)", violation=True
        )
    result = edit_bot_message(
        call, stored, {"text": visible(p["text"], p.get("parse_mode"))}, p.get("reply_markup")
    )
    stored.raw_text, stored.parse_mode = p["text"], p.get("parse_mode")
    return result


@method("editMessageCaption")
async def edit_message_caption(call: Call, p: dict[str, Any]) -> Any:
    stored = own_message(call, p, "message to edit not found")
    if not stored.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited")
    if "text" in stored.api:
        raise ApiError(400, "Bad Request: there is no caption in the message to edit")
    caption = visible(p.get("caption", ""), p.get("parse_mode"))
    return edit_bot_message(call, stored, {"caption": caption}, p.get("reply_markup"))


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call, p: dict[str, Any]) -> Any:
    stored = own_message(call, p, "message to edit not found")
    if not stored.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited")
    return edit_bot_message(call, stored, {}, p.get("reply_markup"))


@method("deleteMessage")
async def delete_message(call: Call, p: dict[str, Any]) -> Any:
    chat = resolve_chat(call, p["chat_id"])
    stored = call.state.messages.get((chat.id, p["message_id"]))
    if stored is None or stored.deleted:
        raise ApiError(400, "Bad Request: message to delete not found")
    refusal = deletion_refusal(call, chat, stored)
    if refusal:
        raise ApiError(400, refusal)
    delete_one(call, chat, stored)
    return True


@method("deleteMessages")
async def delete_messages(call: Call, p: dict[str, Any]) -> Any:
    """Messages that cannot be found or deleted are skipped, as Telegram documents."""
    chat = resolve_chat(call, p["chat_id"])
    for message_id in p["message_ids"]:
        stored = call.state.messages.get((chat.id, message_id))
        if stored is not None and not stored.deleted and not deletion_refusal(call, chat, stored):
            delete_one(call, chat, stored)
    return True


@method("sendChatAction")
async def send_chat_action(call: Call, p: dict[str, Any]) -> Any:
    chat = writable_chat(call, p["chat_id"])
    chat.actions.append({"action": p["action"], "time": call.state.clock.now()})
    return True


@method("getFile")
async def get_file(call: Call, p: dict[str, Any]) -> Any:
    stored = call.state.files.get(p["file_id"])
    if stored is None:
        raise ApiError(400, "Bad Request: invalid file_id")
    if stored.size > DOWNLOAD_LIMIT:
        raise ApiError(400, "Bad Request: file is too big")
    return stored.file_object()
