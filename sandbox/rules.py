"""Limits the Bot API states only in prose, checked per method and per object type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.markup import MarkupError, visible_text

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_BYTES = 64
CALLBACK_ANSWER_LIMIT = 200

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip

_TEXT_METHODS = {"sendMessage", "editMessageText"}
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
# InlineKeyboardButton: exactly one of the fields other than these says what the button does.
_BUTTON_PASSIVE = {"text", "icon_custom_emoji_id", "style"}
_LENGTH_LIMITS: dict[tuple[str, str], tuple[int, int]] = {
    ("answerCallbackQuery", "text"): (0, CALLBACK_ANSWER_LIMIT),
    ("setMyDescription", "description"): (0, 512),
    ("setMyShortDescription", "short_description"): (0, 120),
}
_COUNT_LIMITS: dict[tuple[str, str], tuple[int, int]] = {
    ("deleteMessages", "message_ids"): (1, 100),
    ("setMyCommands", "commands"): (0, 100),
}


def method_rules(method: str, params: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    parse_mode = params.get("parse_mode")
    mode = parse_mode if isinstance(parse_mode, str) else None
    if method in _TEXT_METHODS and isinstance(params.get("text"), str):
        errors.extend(_text_errors("text", params["text"], mode, 1, TEXT_LIMIT))
    if isinstance(params.get("caption"), str):
        errors.extend(_text_errors("caption", params["caption"], mode, 0, CAPTION_LIMIT))
    for (name, field), (low, high) in _LENGTH_LIMITS.items():
        value = params.get(field)
        if name == method and isinstance(value, str) and not low <= len(value) <= high:
            errors.append(f"{field} must be {low}-{high} characters, got {len(value)}")
    for (name, field), (low, high) in _COUNT_LIMITS.items():
        value = params.get(field)
        if name == method and isinstance(value, list) and not low <= len(value) <= high:
            errors.append(f"{field} must hold {low}-{high} items, got {len(value)}")
    limit = params.get("limit")
    if method == "getUpdates" and isinstance(limit, int) and not 1 <= limit <= 100:
        errors.append(f"limit must be 1-100, got {limit}")
    action = params.get("action")
    if method == "sendChatAction" and isinstance(action, str) and action not in CHAT_ACTIONS:
        errors.append(f"wrong parameter action in request: {action!r}")
    return errors


def _text_errors(field: str, text: str, mode: str | None, low: int, high: int) -> list[str]:
    try:
        visible = visible_text(text, mode)
    except MarkupError as exc:
        return [f"{field}: can't parse entities: {exc}"]
    if len(visible.strip()) < low:
        return [f"{field} is empty"]
    if len(visible) > high:
        return [f"{field} is too long: {len(visible)} characters after entity parsing, max {high}"]
    return []


def type_field_rules(type_name: str, value: Mapping[str, Any], path: str) -> list[str]:
    if type_name == "InlineKeyboardButton":
        return _button_errors(value, path)
    if type_name == "BotCommand":
        errors: list[str] = []
        command = value.get("command")
        if isinstance(command, str) and not _COMMAND.match(command):
            errors.append(f"{path}.command must be 1-32 of a-z, 0-9, _: {command!r}")
        description = value.get("description")
        if isinstance(description, str) and not 1 <= len(description) <= 256:
            errors.append(f"{path}.description must be 1-256 characters")
        return errors
    return []


def _button_errors(button: Mapping[str, Any], path: str) -> list[str]:
    errors: list[str] = []
    text = button.get("text")
    if isinstance(text, str) and not text.strip():
        errors.append(f"{path}.text: button text is empty")
    data = button.get("callback_data")
    if isinstance(data, str):
        size = len(data.encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_BYTES:
            errors.append(f"{path}.callback_data must be 1-{CALLBACK_DATA_BYTES} bytes, got {size}")
    actions = [key for key in button if key not in _BUTTON_PASSIVE]
    if len(actions) != 1:
        errors.append(f"{path}: exactly one action field is needed, got {actions or 'none'}")
    return errors
