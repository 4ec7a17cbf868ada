"""The control API under `/_control/`: act as users, read what the bot did, inject faults.

Bodies and answers are JSON. Binary payloads (voice notes, documents) travel as base64 in
`data_b64`. Errors answer `{"error": "..."}` with status 400 or 404.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.actors import ActionError, Actors
from sandbox.botapi import STATE_KEY
from sandbox.state import SandboxState, User

Body = dict[str, Any]
ControlHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlError(ValueError):
    """A control request that cannot be carried out."""


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def guarded(handler: ControlHandler) -> ControlHandler:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (ControlError, ActionError, ValueError, KeyError, TypeError) as exc:
            return json_error(400, f"{type(exc).__name__}: {exc}")

    return wrapper


async def read_body(request: web.Request) -> Body:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _bytes(body: Body) -> bytes:
    try:
        return base64.b64decode(body["data_b64"], validate=True)
    except (KeyError, binascii.Error) as exc:
        raise ControlError("data_b64 (base64 bytes) is required") from exc


def _user(state: SandboxState, request: web.Request, body: Body) -> User:
    return state.ensure_user(
        int(request.match_info["user_id"]),
        first_name=body.get("first_name"),
        username=body.get("username"),
        language_code=body.get("language_code"),
    )


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@guarded
async def user_action(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    body = await read_body(request)
    user = _user(state, request, body)
    actors = Actors(state)
    action = request.match_info["action"]
    chat_id = _opt_int(body.get("chat_id"))
    result: dict[str, Any]
    if action == "text":
        result = actors.text(user, str(body["text"]), chat_id=chat_id)
    elif action == "command":
        result = actors.command(user, str(body["command"]), body.get("payload"), chat_id=chat_id)
    elif action == "voice":
        result = actors.voice(
            user,
            _bytes(body),
            duration=int(body.get("duration", 1)),
            mime_type=body.get("mime_type", "audio/ogg"),
            chat_id=chat_id,
        )
    elif action == "audio":
        result = actors.audio(
            user, _bytes(body), duration=int(body.get("duration", 1)),
            file_name=body.get("file_name", "audio.mp3"),
            mime_type=body.get("mime_type", "audio/mpeg"),
            as_document=bool(body.get("as_document")), caption=body.get("caption"),
            chat_id=chat_id,
        )  # fmt: skip
    elif action == "document":
        result = actors.document(
            user,
            _bytes(body),
            file_name=str(body["file_name"]),
            mime_type=body.get("mime_type"),
            caption=body.get("caption"),
            chat_id=chat_id,
        )
    elif action == "forward":
        origin = _opt_int(body.get("from_user_id"))
        from_user = state.ensure_user(origin) if origin is not None else None
        result = actors.forwarded(
            user,
            str(body["text"]),
            from_user=from_user,
            sender_name=body.get("sender_name"),
            chat_id=chat_id,
        )
    elif action == "press":
        result = actors.press(
            user,
            chat_id=chat_id,
            message_id=_opt_int(body.get("message_id")),
            data=body.get("data"),
            button_text=body.get("button_text"),
            force=bool(body.get("force")),
        )
    elif action == "add_to_group":
        result = actors.add_bot_to_group(user, int(body["chat_id"]), body.get("title"))
    elif action in ("block", "unblock"):
        result = actors.set_blocked(user, action == "block")
    else:
        return json_error(404, f"unknown user action {action!r}")
    return web.json_response(result)


def _chat_view(state: SandboxState, chat_id: int, include_deleted: bool) -> dict[str, Any]:
    chat = state.chats.get(chat_id)
    if chat is None:
        raise ControlError(f"no chat {chat_id}")
    messages = [m.view() for m in state.chat_messages(chat_id) if include_deleted or not m.deleted]
    return {
        "chat": chat.to_api(),
        "blocked": chat.blocked,
        "bot_is_member": chat.bot_is_member,
        "actions": chat.actions,
        "messages": messages,
    }


@guarded
async def chat(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    include_deleted = request.query.get("include_deleted", "true") != "false"
    return web.json_response(_chat_view(state, int(request.match_info["chat_id"]), include_deleted))


@guarded
async def chats(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    return web.json_response([c.to_api() for c in state.chats.values()])


@guarded
async def wait_for_message(request: web.Request) -> web.StreamResponse:
    """Long-poll until a bot message (after `after`, containing `contains`) is in the chat."""
    state = request.app[STATE_KEY]
    chat_id = int(request.match_info["chat_id"])
    contains = request.query.get("contains")
    after = int(request.query.get("after", "0"))
    timeout = float(request.query.get("timeout", "10"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for message in state.chat_messages(chat_id):
            text = message.api.get("text", message.api.get("caption")) or ""
            if (
                message.from_bot
                and not message.deleted
                and message.message_id > after
                and (contains is None or contains in text)
            ):
                return web.json_response(message.view())
        remaining = deadline - loop.time()
        if state.closing:
            return json_error(503, "the sandbox is shutting down")
        if remaining <= 0:
            return json_error(408, f"no bot message in chat {chat_id} matched within {timeout}s")
        await state.wait_bot_activity(remaining)
