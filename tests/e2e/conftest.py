"""End-to-end fixtures: the sandbox Bot API in this process, the real bot as another process.

Set-up runs the real CLI once per session (`casevoice init`, `review keygen`, `case create`,
`invite create`) into a template data directory; each test copies it, so every test has a fresh
database and its own single-use invites without paying for the CLI again. A test that asks for
PostgreSQL (``world`` parametrised indirectly) runs the same set-up into a fresh PostgreSQL
database of its own. The bot always runs at DEBUG. Teardown stops the bot and fails the test if
the bot's log holds the token, a canary
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
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.container import Container
from bot.settings import load_settings
from sandbox.client import SandboxClient, SandboxClientError
from sandbox.server import create_app, start_sandbox
from tests.conftest import fresh_pg_database
from tests.e2e.world import (
    CASE_REF,
    CASE_TITLE,
    CASEVOICE,
    TOKEN,
    BotProcess,
    Invites,
    World,
    bot_env,
    database_url_of,
)

EXTRA_INVITES = {"family": 3, "professional": 2}
ALL_INVITES = {role: n + 1 for role, n in EXTRA_INVITES.items()}


@dataclass(frozen=True)
class Template:
    data_dir: Path
    identity: Path
    recipient: str
    invites: Invites
    database_url: str | None = None


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [CASEVOICE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"casevoice {args[0]} failed: {done.stdout}{done.stderr}"
    return done.stdout


async def _invites(
    data_dir: Path, database_url: str | None, counts: dict[str, int]
) -> dict[str, list[str]]:
    """Invites through the service (as the CLI does), to keep the set-up short."""
    settings = load_settings(
        data_dir=data_dir, database_url=database_url, bot_username="casevoice_sandbox_bot"
    )
    codes: dict[str, list[str]] = {role: [] for role in counts}
    async with await Container.open(settings, run_migrations=False) as container:
        for role, n in counts.items():
            for _ in range(n):
                codes[role].append((await container.invites.create(CASE_REF, role)).code)
    return codes


def _create_case(env: dict[str, str], recipient: str) -> None:
    _cli(
        env,
        "case",
        "create",
        CASE_REF,
        "--recipient",
        recipient,
        "--title",
        CASE_TITLE,
        "--withdraw-until",
        "2099-12-31",
    )


def build_template(root: Path) -> Template:
    """What a reviewer's set-up leaves: `casevoice init`, a reviewer key, a case, invites."""
    data_dir = root / "data"
    env = bot_env(data_dir)
    _cli(env, "init")
    identity = root / "reviewer-identity.txt"
    keygen = _cli(env, "review", "keygen", "--out", str(identity))
    match = re.search(r"age1[0-9a-z]{20,}", keygen + identity.read_text())
    assert match is not None, "review keygen printed no age1 recipient"
    _create_case(env, match.group(0))
    first = {
        role: json.loads(_cli(env, "invite", "create", CASE_REF, "--role", role, "--json"))
        for role in ("family", "professional")
    }
    more = asyncio.run(_invites(data_dir, None, EXTRA_INVITES))
    invites = Invites(
        family=[first["family"]["code"], *more["family"]],
        professional=[first["professional"]["code"], *more["professional"]],
    )
    return Template(data_dir, identity, match.group(0), invites)


def build_on_postgres(template: Template, root: Path, database_url: str) -> Template:
    """The same set-up in a fresh PostgreSQL database: `casevoice init` and `case create`
    against it (the same reviewer as the session's), invites through the service."""
    data_dir = root / "data"
    env = bot_env(data_dir, database_url=database_url)
    _cli(env, "init")
    _create_case(env, template.recipient)
    codes = asyncio.run(_invites(data_dir, database_url, ALL_INVITES))
    invites = Invites(family=codes["family"], professional=codes["professional"])
    return Template(data_dir, template.identity, template.recipient, invites, database_url)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The SQLite set-up, made once per session and copied by each test."""
    return build_template(tmp_path_factory.mktemp("e2e-template"))


@pytest.fixture
async def world(
    request: pytest.FixtureRequest, template: Template, tmp_path: Path
) -> AsyncIterator[World]:
    """A fresh data dir and database, a sandbox, and the bot running against it.

    SQLite by default (a copy of the session's template). A test parametrised indirectly with
    ``"postgresql"`` gets its own set-up in a fresh PostgreSQL database instead: the bot, the
    CLI's set-up and the reviewer's pull on the other engine.
    """
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        data_dir = tmp_path / "data"
        shutil.copytree(template.data_dir, data_dir)
        async with _running_world(template, data_dir, tmp_path) as world:
            yield world
        return
    assert backend == "postgresql", backend
    async with fresh_pg_database() as pg:
        # In a thread: the set-up runs the CLI and an event loop of its own.
        own = await asyncio.to_thread(build_on_postgres, template, tmp_path / "pg", pg.url)
        async with _running_world(own, own.data_dir, tmp_path) as world:
            yield world
        assert not (own.data_dir / "casevoice.db").exists(), "the bot fell back to SQLite"


@asynccontextmanager
async def _running_world(
    template: Template, data_dir: Path, tmp_path: Path
) -> AsyncIterator[World]:
    sandbox = await start_sandbox("127.0.0.1", 0, create_app())
    client = SandboxClient(sandbox.url)
    env = bot_env(data_dir, sandbox.url, template.database_url)
    bot = BotProcess(env, tmp_path / "bot.log", client)
    world = World(
        data_dir,
        client,
        bot,
        Invites(list(template.invites.family), list(template.invites.professional)),
        database_url_of(env),
        template.identity,
    )
    try:
        await bot.start()
        yield world
    finally:
        # A clean stop (not SIGKILL), so coverage can save what this bot process ran.
        await bot.stop(release_polls=sandbox.state.close)
        world.close()
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
