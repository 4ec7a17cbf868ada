"""Assembling and running the sandbox: `create_app`, `start_sandbox`, `run_sandbox`, `main`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from sandbox import observe
from sandbox.botapi import SPEC_KEY, STATE_KEY, add_routes
from sandbox.control import chat, chats, user_action, wait_for_message
from sandbox.spec import ApiSpec
from sandbox.state import DEFAULT_BOT_ID, DEFAULT_BOT_NAME, DEFAULT_BOT_USERNAME, SandboxState
from sandbox.web import add_page_routes

# Telegram accepts uploads of up to 50 MB; leave room for the multipart envelope.
MAX_REQUEST_BYTES = 60 * 1024 * 1024


def create_app(
    api_json_path: Path | str | None = None,
    *,
    spec: ApiSpec | None = None,
    state: SandboxState | None = None,
    bot_id: int = DEFAULT_BOT_ID,
    bot_username: str = DEFAULT_BOT_USERNAME,
    bot_name: str = DEFAULT_BOT_NAME,
) -> web.Application:
    """The sandbox as an aiohttp application (Bot API routes, `/_control/`, `/rehearse/`)."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SPEC_KEY] = spec if spec is not None else ApiSpec.load(api_json_path)
    app[STATE_KEY] = (
        state
        if state is not None
        else SandboxState(bot_id=bot_id, bot_username=bot_username, bot_name=bot_name)
    )
    add_routes(app)
    app.on_shutdown.append(_release_waiters)
    router = app.router
    c = "/_control"
    router.add_get(f"{c}/health", observe.health)
    router.add_post(f"{c}/reset", observe.reset)
    router.add_get(f"{c}/bot", observe.bot_info)
    router.add_post(c + "/users/{user_id}/{action}", user_action)
    router.add_get(f"{c}/chats", chats)
    router.add_get(c + "/chats/{chat_id}", chat)
    router.add_get(c + "/chats/{chat_id}/wait", wait_for_message)
    router.add_get(f"{c}/callbacks", observe.callbacks)
    router.add_get(f"{c}/requests", observe.requests_log)
    router.add_get(f"{c}/counts", observe.counts)
    router.add_get(f"{c}/violations", observe.violations)
    router.add_get(f"{c}/errors", observe.errors)
    router.add_get(f"{c}/updates", observe.updates)
    router.add_post(f"{c}/updates/replay", observe.replay_updates)
    router.add_get(f"{c}/faults", observe.list_faults)
    router.add_post(f"{c}/faults", observe.add_fault)
    router.add_delete(f"{c}/faults", observe.clear_faults)
    router.add_get(f"{c}/clock", observe.clock)
    router.add_post(f"{c}/clock", observe.clock)
    router.add_get(c + "/files/{file_id}", observe.file_bytes)
    add_page_routes(app)  # the rehearsal chat page, /rehearse/
    return app


async def _release_waiters(app: web.Application) -> None:
    app[STATE_KEY].close()


class RunningSandbox:
    """A sandbox listening on a real port, for tests and rehearsals in the same process."""

    def __init__(self, app: web.Application, runner: web.AppRunner, url: str) -> None:
        self.app = app
        self.url = url
        self._runner = runner

    @property
    def state(self) -> SandboxState:
        return self.app[STATE_KEY]

    async def close(self) -> None:
        await self._runner.cleanup()

    async def __aenter__(self) -> RunningSandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def start_sandbox(
    host: str = "127.0.0.1", port: int = 0, app: web.Application | None = None
) -> RunningSandbox:
    """Start serving; port 0 picks a free port (see `.url`)."""
    app = app if app is not None else create_app()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # noqa: SLF001  (aiohttp exposes the bound port nowhere else)
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return RunningSandbox(app, runner, f"http://{host}:{bound}")


async def run_sandbox(
    host: str = "127.0.0.1",
    port: int = 8081,
    api_json_path: Path | str | None = None,
    *,
    bot_username: str = DEFAULT_BOT_USERNAME,
) -> None:
    """Serve until cancelled."""
    running = await start_sandbox(host, port, create_app(api_json_path, bot_username=bot_username))
    print(f"CaseVoice sandbox Bot API at {running.url}  (control: {running.url}/_control/)")  # noqa: T201
    try:
        await asyncio.Event().wait()
    finally:
        await running.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--api-json",
        type=Path,
        default=None,
        help="path to another api.json (default: the one shipped in sandbox/spec_data)",
    )
    parser.add_argument("--bot-username", default=DEFAULT_BOT_USERNAME)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                run_sandbox(args.host, args.port, args.api_json, bot_username=args.bot_username)
            )
    except OSError as exc:  # a port in use, a missing --api-json: one line, not a traceback
        reason = exc.strerror or str(exc) or type(exc).__name__
        where = f": {exc.filename}" if exc.filename else f" (on {args.host}:{args.port})"
        parser.exit(1, f"error: {reason}{where}; choose another --port or --api-json\n")
