"""The rehearsal chat page: a phone-style chat with the bot, served under `/rehearse/`.

The page itself is static (`sandbox/web/`: no build step, nothing fetched from outside the
machine). It acts as a person through the control API (`/_control/users/...`) and reads its chat
here, from a long-poll that answers as soon as the chat changes, so edits and deletions appear
live.

Who the person is comes from the host: a host that can make invites (the `casevoice rehearse`
command) puts the URL of its "new person" endpoint in `app[PERSON_URL_KEY]`; the page POSTs there
once per tab and sends `/start <code>` itself. Without one (a bare `casevoice sandbox`) the page
makes up a user id and the person types `/start <code>` by hand. The sandbox imports none of the
bot's packages; the endpoint is just a URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.botapi import STATE_KEY
from sandbox.control import guarded, json_error
from sandbox.methods import commands_key
from sandbox.state import SandboxState, StoredMessage

PAGE_DIR = Path(__file__).with_name("web")
PAGE_PREFIX = "/rehearse"
PERSON_URL_KEY = web.AppKey("rehearse_person_url", str)

_ASSETS = {
    "": ("index.html", "text/html"),
    "app.js": ("app.js", "text/javascript"),
    "style.css": ("style.css", "text/css"),
}
# Nothing outside this origin: no CDN, no fonts, no analytics. Recorded audio plays from blob:.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
CHAT_ACTION_SECONDS = 5.0  # Telegram shows "typing…" for about five seconds
LONG_POLL_MAX = 30.0
RECHECK_SECONDS = 0.5  # the person's own messages do not wake the long poll; look again soon


def add_page_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(PAGE_PREFIX, _redirect_to_page)
    for name in _ASSETS:
        router.add_get(f"{PAGE_PREFIX}/{name}", _asset)
    router.add_get(f"{PAGE_PREFIX}/api/config", config)
    router.add_get(PAGE_PREFIX + "/api/chats/{chat_id}", chat_feed)
    router.add_get(PAGE_PREFIX + "/api/files/{file_id}", file_for_player)


async def _redirect_to_page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"{PAGE_PREFIX}/")


async def _asset(request: web.Request) -> web.StreamResponse:
    name = request.path.removeprefix(f"{PAGE_PREFIX}/")
    file_name, content_type = _ASSETS[name]
    body = (PAGE_DIR / file_name).read_bytes()
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8",
        headers={"Cache-Control": "no-store", "Content-Security-Policy": _CSP,
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"},
    )  # fmt: skip


@guarded
async def config(request: web.Request) -> web.StreamResponse:
    """What the page needs to start: where to get a person, who the bot is, its commands."""
    state = request.app[STATE_KEY]
    commands = state.commands.get(commands_key({}), [])
    return web.json_response(
        {
            "person_url": request.app.get(PERSON_URL_KEY),
            "bot": {"name": state.bot.first_name, "username": state.bot.username},
            "commands": [
                {"command": c.get("command"), "description": c.get("description")} for c in commands
            ],
        }
    )


@guarded
async def chat_feed(request: web.Request) -> web.StreamResponse:
    """The chat as the person sees it; waits (up to `timeout`) until it differs from `since`."""
    state = request.app[STATE_KEY]
    chat_id = int(request.match_info["chat_id"])
    since = request.query.get("since")
    timeout = min(float(request.query.get("timeout", "25")), LONG_POLL_MAX)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        view = chat_view(state, chat_id)
        remaining = deadline - loop.time()
        if view["version"] != since or remaining <= 0 or state.closing:
            return web.json_response(view)
        await state.wait_bot_activity(min(remaining, RECHECK_SECONDS))


@guarded
async def file_for_player(request: web.Request) -> web.StreamResponse:
    """A voice note's bytes with its own type, so the page's audio player can play it back."""
    stored = request.app[STATE_KEY].files.get(request.match_info["file_id"])
    if stored is None:
        return json_error(404, "no such file")
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type or "audio/ogg",
        headers={"Cache-Control": "no-store"},
    )


def chat_view(state: SandboxState, chat_id: int) -> dict[str, Any]:
    """Live messages (deleted ones vanish, as in Telegram), the bot's chat action, toasts."""
    stored = [m for m in state.chat_messages(chat_id) if not m.deleted]
    messages = [_message(m) for m in stored]
    chat = state.chats.get(chat_id)
    action = None
    if chat is not None and chat.actions:
        last, at = chat.actions[-1], float(chat.actions[-1]["time"])
        # As in Telegram, "typing…" ends when the bot's message arrives (dates are whole seconds).
        answered = any(m.from_bot and m.date >= int(at) for m in stored)
        if state.clock.now() - at < CHAT_ACTION_SECONDS and not answered:
            action = str(last["action"])
    toasts = [
        {"id": r.id, "text": r.answer.get("text"), "alert": bool(r.answer.get("show_alert"))}
        for r in state.callbacks.values()
        if r.chat_id == chat_id and r.answer is not None and r.answer.get("text")
    ]
    fingerprint = json.dumps([[m["id"], m["edits"]] for m in messages] + [action, len(toasts)])
    return {
        "chat_id": chat_id,
        "version": hashlib.sha256(fingerprint.encode()).hexdigest()[:16],
        "action": action,
        "messages": messages,
        "toasts": toasts,
    }


def _message(stored: StoredMessage) -> dict[str, Any]:
    api = stored.api
    media = next((api[k] for k in ("voice", "audio", "document") if k in api), None)
    rows = (api.get("reply_markup") or {}).get("inline_keyboard", [])
    return {
        "id": stored.message_id,
        "from_bot": stored.from_bot,
        "date": stored.date,
        "kind": next((k for k in ("text", "voice", "audio", "document", "photo") if k in api),
                     "service"),
        "text": api.get("text", api.get("caption")),
        "entities": api.get("entities", api.get("caption_entities", [])),
        "buttons": [
            [{"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")}
             for b in row]
            for row in rows
        ],
        "edits": len(stored.history),
        "forwarded": "forward_origin" in api,
        "media": None if media is None else {
            "file_id": media.get("file_id"), "duration": media.get("duration"),
            "mime_type": media.get("mime_type"), "file_name": media.get("file_name"),
        },
    }  # fmt: skip
