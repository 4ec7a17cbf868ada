"""End-to-end fixtures: the sandbox Bot API in this process, the real bot as another process.

Set-up runs the real CLI once per session (`casevoice init`, `review keygen`, `case create`,
`invite create`) into a template data directory; each test copies it, so every test has a fresh
database and its own single-use invites without paying for the CLI again. The bot always runs
at DEBUG. Teardown stops the bot and fails the test if the bot's log holds the token, a canary
answer or a raw Telegram user id, if the bot made any request that breaks the Bot API spec, sent
anything without `protect_content`, or let a message's first line (the notification preview)
name the case.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.container import Container
from bot.settings import load_settings
from sandbox.client import SandboxClient, SandboxClientError
from sandbox.server import create_app, start_sandbox
from tests.e2e.world import (
    CASE_REF,
    CASE_TITLE,
    CASEVOICE,
    TOKEN,
    BotProcess,
    Invites,
    World,
    bot_env,
)

EXTRA_INVITES = {"family": 3, "professional": 2}


@dataclass(frozen=True)
class Template:
    data_dir: Path
    identity: Path
    invites: Invites


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [CASEVOICE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"casevoice {args[0]} failed: {done.stdout}{done.stderr}"
    return done.stdout


async def _more_invites(data_dir: Path) -> dict[str, list[str]]:
    """More invites through the service (as the CLI does), to keep the session set-up short."""
    settings = load_settings(data_dir=data_dir, bot_username="casevoice_sandbox_bot")
    codes: dict[str, list[str]] = {}
    async with await Container.open(settings, run_migrations=False) as container:
        for role, n in EXTRA_INVITES.items():
            for _ in range(n):
                created = await container.invites.create(CASE_REF, role)
                codes.setdefault(role, []).append(created.code)
    return codes


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("e2e-template")
    data_dir = root / "data"
    env = bot_env(data_dir)
    _cli(env, "init")
    identity = root / "reviewer-identity.txt"
    keygen = _cli(env, "review", "keygen", "--out", str(identity))
    match = re.search(r"age1[0-9a-z]{20,}", keygen + identity.read_text())
    assert match is not None, "review keygen printed no age1 recipient"
    _cli(
        env,
        "case",
        "create",
        CASE_REF,
        "--recipient",
        match.group(0),
        "--title",
        CASE_TITLE,
        "--withdraw-until",
        "2099-12-31",
    )
    first = {
        role: json.loads(_cli(env, "invite", "create", CASE_REF, "--role", role, "--json"))
        for role in ("family", "professional")
    }
    more = asyncio.run(_more_invites(data_dir))
    invites = Invites(
        family=[first["family"]["code"], *more["family"]],
        professional=[first["professional"]["code"], *more["professional"]],
    )
    return Template(data_dir, identity, invites)


@pytest.fixture
async def world(template: Template, tmp_path: Path) -> AsyncIterator[World]:
    """A fresh copy of the data dir, a sandbox, and the bot running against it."""
    data_dir = tmp_path / "data"
    shutil.copytree(template.data_dir, data_dir)
    sandbox = await start_sandbox("127.0.0.1", 0, create_app())
    client = SandboxClient(sandbox.url)
    bot = BotProcess(bot_env(data_dir, sandbox.url), tmp_path / "bot.log", client)
    world = World(
        data_dir,
        client,
        bot,
        Invites(list(template.invites.family), list(template.invites.professional)),
    )
    try:
        await bot.start()
        yield world
    finally:
        # A clean stop (not SIGKILL), so coverage can save what this bot process ran.
        await bot.stop(release_polls=sandbox.state.close)
        violations = await client.violations()
        sends = [
            r
            for r in await client.requests()
            if r["method"].startswith("send") and r["method"] != "sendChatAction"
        ]
        first_lines = [
            str(m["text"] or "").split("\n", 1)[0]
            for user_id in world.user_ids
            for m in await _bot_messages(client, user_id)
        ]
        await client.close()
        await sandbox.close()
    log = bot.log_text()
    assert " DEBUG " in log, "the bot did not log at DEBUG"
    assert TOKEN not in log and TOKEN.split(":", 1)[1] not in log, "the bot token is in the log"
    for canary in world.canaries:
        marker = canary.split()[-1]
        assert canary not in log and marker not in log, f"answer {canary!r} reached the log"
    for code in [*world.invites.family, *world.invites.professional]:
        assert code not in log, "an invite code reached the log"
    for user_id in world.user_ids:
        assert str(user_id) not in log, f"raw Telegram user id {user_id} reached the log"
    assert violations == [], f"the bot broke the Bot API spec: {violations}"
    unprotected = [
        r["method"] for r in sends if r.get("params", {}).get("protect_content") is not True
    ]
    assert unprotected == [], f"sent without protect_content: {unprotected}"
    for line in first_lines:
        assert CASE_TITLE not in line and CASE_REF not in line, f"names the case: {line!r}"


async def _bot_messages(client: SandboxClient, user_id: int) -> list[dict[str, object]]:
    try:
        return await client.bot_messages(user_id, include_deleted=True)
    except SandboxClientError:
        return []  # this person never opened a chat
