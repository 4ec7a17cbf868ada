"""The Bot API over HTTP: `/bot{token}/{method}` and `/file/bot{token}/{file_path}`.

Every request is logged, counted, offered to the fault plan, checked against the specification
and only then handed to its method. A request that breaks the specification is answered with
400 (404 for an unknown method, 501 for a method the sandbox does not implement) and recorded as
a violation, so a test can assert that the bot never sent one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, NoReturn

from aiohttp import BodyPartReader, web

from sandbox import botmeta, messaging
from sandbox.faults import Fault
from sandbox.methods import METHODS, ApiError, Call
from sandbox.spec import ApiSpec, Upload
from sandbox.state import SandboxState

STATE_KEY = web.AppKey("sandbox_state", SandboxState)
SPEC_KEY = web.AppKey("sandbox_spec", ApiSpec)

log = logging.getLogger(__name__)

# Importing these modules registers their methods in METHODS.
METHOD_MODULES = (botmeta, messaging)


FAULT_TEXTS = {
    "400": "Bad Request: injected fault",
    "403": "Forbidden: bot was blocked by the user",
    "500": "Internal Server Error",
    "502": "Bad Gateway",
}


def error_response(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request's parameters: (form strings to be coerced by type, already typed JSON)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        raw = await request.read()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object")
        return params, body
    if request.content_type == "multipart/form-data":
        uploads: dict[str, Upload] = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                data = await part.read()
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                uploads[part.name] = Upload(part.filename, content_type, bytes(data))
            else:
                params[part.name] = await part.text()
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                upload = uploads.pop(value.removeprefix("attach://"), None)
                if upload is not None:
                    params[key] = upload
        params.update(uploads)  # files posted directly under the parameter's own name
        return params, {}
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params, {}


def loggable(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"upload": value.filename, "size": len(value.data), "content_type": value.content_type}
        if isinstance(value, Upload)
        else value
        for key, value in params.items()
    }


async def drop_connection(request: web.Request) -> NoReturn:
    """Close the connection without answering: the client sees a disconnect."""
    if request.transport is not None:
        request.transport.close()
    raise asyncio.CancelledError  # aiohttp drops the request quietly


async def handle_method(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    spec = request.app[SPEC_KEY]
    token = request.match_info["token"]
    requested = request.match_info["method"]
    method = spec.canonical_method(requested) or requested
    state.record_token(token)
    state.counts[method] += 1
    entry: dict[str, Any] = {"method": method, "token": token, "time": state.clock.now()}
    state.requests.append(entry)
    try:
        form, typed = await read_params(request)
    except ValueError as exc:
        description = f"Bad Request: can't parse request body: {exc}"
        return reject(state, entry, 400, description, violation=description)
    params = {**spec.coerce_form(method, form), **typed}
    entry["params"] = loggable(params)

    fault = state.faults.take(method)
    if fault is not None:
        early = await apply_fault(request, fault, entry)
        if early is not None:
            return early

    if spec.canonical_method(requested) is None:
        return reject(state, entry, 404, "Not Found", violation=f"unknown method {requested!r}")
    problems = spec.validate_method(method, params)
    if problems:
        return reject(state, entry, 400, f"Bad Request: {'; '.join(problems)}", violation=problems)
    handler = METHODS.get(method)
    if handler is None:
        return reject(
            state,
            entry,
            501,
            f"Not Implemented: the sandbox has no {method}",
            violation=f"{method} is not implemented by the sandbox",
        )
    try:
        result = await handler(Call(state, token), params)
    except ApiError as exc:
        return reject(
            state,
            entry,
            exc.code,
            exc.description,
            violation=exc.description if exc.violation else None,
        )
    entry["status"] = 200
    if method == "getUpdates":
        # Which updates were handed over (ids only): tests wait on "the bot has it".
        entry["update_ids"] = [u["update_id"] for u in result]
    if fault is not None and fault.kind == "drop_after":
        entry["status"] = "dropped after processing"
        await drop_connection(request)
    return web.json_response({"ok": True, "result": result})


async def apply_fault(
    request: web.Request, fault: Fault, entry: dict[str, Any]
) -> web.Response | None:
    entry["fault"] = fault.kind
    if fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.kind == "drop_after":
        return None
    if fault.kind == "drop":
        entry["status"] = "dropped"
        await drop_connection(request)
    if fault.kind == "429":
        entry["status"] = 429
        return error_response(
            429, f"Too Many Requests: retry after {fault.retry_after}", fault.retry_after
        )
    entry["status"] = int(fault.kind)
    return error_response(int(fault.kind), FAULT_TEXTS[fault.kind])


def reject(
    state: SandboxState,
    entry: dict[str, Any],
    code: int,
    description: str,
    *,
    violation: str | list[str] | None = None,
) -> web.Response:
    entry["status"] = code
    entry["error"] = description
    record = {
        "method": entry["method"],
        "time": entry["time"],
        "code": code,
        "description": description,
    }
    state.errors.append(record)
    if violation is not None:
        problems = [violation] if isinstance(violation, str) else violation
        state.violations.append({**record, "problems": problems, "params": entry.get("params")})
    log.debug("sandbox %s -> %s", entry["method"], code)
    return error_response(code, description)


async def handle_download(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    state.record_token(request.match_info["token"])
    state.counts["download"] += 1
    entry: dict[str, Any] = {
        "method": "download",
        "time": state.clock.now(),
        "params": {"file_path": request.match_info["path"]},
    }
    state.requests.append(entry)
    fault = state.faults.take("download")
    if fault is not None:
        early = await apply_fault(request, fault, entry)
        if early is not None:
            return early
    stored = state.files.by_path(request.match_info["path"])
    if stored is None:
        entry["status"] = 404
        return error_response(404, "Not Found")
    entry["status"] = 200
    if fault is not None and fault.kind == "drop_after":
        await drop_connection(request)
    return web.Response(body=stored.data, content_type="application/octet-stream")


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_download)
