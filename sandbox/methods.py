"""The Bot API methods the sandbox implements, with Telegram's own refusals.

Each handler receives a request already checked against the specification. `ApiError` is how
Telegram answers a well-formed request it refuses (chat not found, message can't be deleted);
`violation=True` marks refusals that are the bot's mistake rather than the world's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.markup import MarkupError, visible_text
from sandbox.spec import Upload
from sandbox.state import Chat, SandboxState, StoredMessage

DELETE_WINDOW_SECONDS = 48 * 3600
NOT_FOUND_QUERY = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a content and reply markup of the current message"
)


class ApiError(Exception):
    def __init__(self, code: int, description: str, *, violation: bool = False) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation


@dataclass
class Call:
    state: SandboxState
    token: str


Handler = Callable[[Call, dict[str, Any]], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            METHODS[name] = handler
        return handler

    return register


def visible(text: str, parse_mode: Any) -> str:
    try:
        return visible_text(text, parse_mode if isinstance(parse_mode, str) else None)
    except MarkupError as exc:  # already reported by validation; keep the text readable
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}", violation=True) from exc


# --- chats and messages ---------------------------------------------------------------------


def resolve_chat(call: Call, chat_id: Any) -> Chat:
    if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
        chat_id = int(chat_id)
    chat = call.state.chats.get(chat_id) if isinstance(chat_id, int) else None
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    return chat


def writable_chat(call: Call, chat_id: Any) -> Chat:
    chat = resolve_chat(call, chat_id)
    if chat.type == "private" and chat.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    if chat.type != "private" and not chat.bot_is_member:
        raise ApiError(403, "Forbidden: bot is not a member of the group chat")
    return chat


def post_bot_message(call: Call, p: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    chat = writable_chat(call, p["chat_id"])
    markup = p.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        content["reply_markup"] = markup
    if p.get("protect_content"):
        content["has_protected_content"] = True
    reply = p.get("reply_parameters")
    if isinstance(reply, dict):
        target = state.messages.get((chat.id, reply.get("message_id", 0)))
        if target is not None and not target.deleted:
            content["reply_to_message"] = {
                k: v for k, v in target.api.items() if k != "reply_to_message"
            }
        elif not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")
    stored = state.add_message(chat, state.bot, content)
    stored.protect_content = bool(p.get("protect_content"))
    stored.parse_mode = p.get("parse_mode")
    stored.raw_text = p.get("text", p.get("caption"))
    stored.keyboard = markup
    state.bot_acted()
    return stored.api


def with_caption(p: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    if p.get("caption"):
        content["caption"] = visible(p["caption"], p.get("parse_mode"))
    return content


def stored_file(call: Call, value: Any, kind: str) -> Any:
    files = call.state.files
    if isinstance(value, Upload):
        mime = None if value.content_type == "application/octet-stream" else value.content_type
        return files.add(value.data, kind, mime_type=mime, file_name=value.filename)
    known = files.get(value) if isinstance(value, str) else None
    if known is not None:
        return known
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        raise ApiError(400, "Bad Request: failed to get HTTP URL content")
    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")


def own_message(call: Call, p: dict[str, Any], missing: str) -> StoredMessage:
    if p.get("inline_message_id"):
        raise ApiError(400, "Bad Request: inline messages are not supported by the sandbox")
    if "chat_id" not in p or "message_id" not in p:
        raise ApiError(400, "Bad Request: chat_id and message_id are required", violation=True)
    chat = resolve_chat(call, p["chat_id"])
    stored = call.state.messages.get((chat.id, p["message_id"]))
    if stored is None or stored.deleted:
        raise ApiError(400, f"Bad Request: {missing}")
    return stored


def edit_bot_message(
    call: Call, stored: StoredMessage, changes: dict[str, Any], markup: Any
) -> Any:
    current = {k: stored.api.get(k) for k in changes}
    if current == changes and stored.api.get("reply_markup") == markup:
        raise ApiError(400, NOT_MODIFIED)
    stored.history.append(
        {"text": stored.api.get("text", stored.api.get("caption")),
         "reply_markup": stored.api.get("reply_markup"),
         "date": stored.api.get("edit_date", stored.date)}
    )  # fmt: skip
    stored.api.update(changes)
    if markup is None:
        stored.api.pop("reply_markup", None)
    else:
        stored.api["reply_markup"] = markup
    stored.keyboard = markup
    stored.api["edit_date"] = call.state.clock.timestamp()
    call.state.bot_acted()
    return stored.api


def deletion_refusal(call: Call, chat: Chat, stored: StoredMessage) -> str | None:
    """Why Telegram would refuse to delete this message, or None."""
    if call.state.clock.now() - stored.date >= DELETE_WINDOW_SECONDS:
        return "Bad Request: message can't be deleted for everyone"
    if chat.type != "private" and not stored.from_bot:
        return "Bad Request: message can't be deleted"
    return None


def delete_one(call: Call, chat: Chat, stored: StoredMessage) -> None:
    stored.deleted = True
    stored.deleted_at = call.state.clock.timestamp()
    call.state.bot_acted()


def commands_key(p: dict[str, Any]) -> str:
    scope = p.get("scope") or {"type": "default"}
    return f"{json.dumps(scope, sort_keys=True)}|{p.get('language_code') or ''}"


def image_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 320, 320
