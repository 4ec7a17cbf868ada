"""Control endpoints that read state or change the world around the bot (faults, clock, reset)."""

from __future__ import annotations

from aiohttp import web

from sandbox.botapi import SPEC_KEY, STATE_KEY
from sandbox.control import guarded, json_error, read_body


@guarded
async def requests_log(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    method = request.query.get("method")
    entries = [e for e in state.requests if method is None or e["method"] == method]
    return web.json_response(entries)


@guarded
async def counts(request: web.Request) -> web.StreamResponse:
    return web.json_response(dict(request.app[STATE_KEY].counts))


@guarded
async def violations(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[STATE_KEY].violations)


@guarded
async def errors(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[STATE_KEY].errors)


@guarded
async def callbacks(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    return web.json_response(
        [
            {
                "id": r.id,
                "user_id": r.user_id,
                "chat_id": r.chat_id,
                "message_id": r.message_id,
                "data": r.data,
                "created_at": r.created_at,
                "answer": r.answer,
            }
            for r in state.callbacks.values()
        ]  # fmt: skip
    )


@guarded
async def updates(request: web.Request) -> web.StreamResponse:
    queue = request.app[STATE_KEY].updates
    return web.json_response(
        {
            "pending": queue.pending,
            "confirmed_up_to": queue.confirmed_up_to,
            "next_update_id": queue.next_update_id,
            "allowed_updates": queue.allowed_updates,
            "not_queued": queue.not_queued,
        }
    )


@guarded
async def replay_updates(request: web.Request) -> web.StreamResponse:
    body = await read_body(request)
    ids = [int(i) for i in body["update_ids"]]
    return web.json_response({"replayed": request.app[STATE_KEY].updates.replay(ids)})


@guarded
async def bot_info(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    return web.json_response(
        {
            "user": state.bot.to_api(),
            "tokens": state.tokens,
            "commands": state.commands,
            "descriptions": state.descriptions,
            "spec_version": request.app[SPEC_KEY].version,
        }
    )


@guarded
async def add_fault(request: web.Request) -> web.StreamResponse:
    body = await read_body(request)
    fault = request.app[STATE_KEY].faults.add(
        str(body["kind"]),
        count=int(body.get("count", 1)),
        method=body.get("method"),
        retry_after=int(body.get("retry_after", 1)),
        seconds=float(body.get("seconds", 0.0)),
    )
    return web.json_response(fault.to_json())


@guarded
async def list_faults(request: web.Request) -> web.StreamResponse:
    plan = request.app[STATE_KEY].faults
    return web.json_response({"pending": plan.pending(), "delivered": plan.delivered})


@guarded
async def clear_faults(request: web.Request) -> web.StreamResponse:
    request.app[STATE_KEY].faults.clear()
    return web.json_response({"ok": True})


@guarded
async def clock(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    if request.method == "POST":
        body = await read_body(request)
        state.clock.advance(float(body["seconds"]))
    return web.json_response({"now": state.clock.now(), "offset": state.clock.offset})


@guarded
async def file_bytes(request: web.Request) -> web.StreamResponse:
    stored = request.app[STATE_KEY].files.get(request.match_info["file_id"])
    if stored is None:
        return json_error(404, "no such file")
    return web.Response(body=stored.data, content_type="application/octet-stream")


@guarded
async def reset(request: web.Request) -> web.StreamResponse:
    request.app[STATE_KEY].reset()
    return web.json_response({"ok": True})


@guarded
async def health(request: web.Request) -> web.StreamResponse:
    return web.json_response({"ok": True})
