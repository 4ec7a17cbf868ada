"""Failures a new user meets first: each is ONE `error:` line naming the thing and what to do.

A missing file, a port already in use, an unreachable Bot API: the real console script runs as
a subprocess, and its stderr must be a single line, never a traceback and never only an
exception's class name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli_support import explain

CONSOLE_SCRIPT = Path(sys.executable).with_name("casevoice")
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz012"


def _casevoice(workdir: Path, *args: str, timeout: float = 120, **env: str) -> str:
    """Run the command, expect a refusal, and return its one stderr line."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEVOICE_")}
    environment.update(CASEVOICE_DATA_DIR=str(workdir / "data"), COLUMNS="200", **env)
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode != 0, f"casevoice {args[0]} succeeded: {done.stdout}"
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else is listening on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


@pytest.fixture
def initialised(tmp_path: Path) -> Path:
    subprocess.run(
        [str(CONSOLE_SCRIPT), "init"],
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("CASEVOICE_")},
            "CASEVOICE_DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        check=True,
        timeout=60,
    )
    return tmp_path


# -- a missing file ------------------------------------------------------------------------------


def test_given_a_missing_identity_file_then_the_line_names_it_and_what_to_give(
    tmp_path: Path,
) -> None:
    store = tmp_path / "evidence"
    store.mkdir()
    missing = tmp_path / "nowhere" / "reviewer.age"

    line = _casevoice(
        tmp_path,
        "review",
        "pull",
        "X",
        "--identity",
        str(missing),
        "--store",
        str(store),
        "--out",
        "o",
    )

    assert str(missing) in line and "No such file or directory" in line
    assert "review keygen" in line


def test_given_a_missing_script_file_then_rehearse_names_it(tmp_path: Path) -> None:
    line = _casevoice(tmp_path, "rehearse", "--script", "family=nowhere.yaml")

    assert "nowhere.yaml" in line and "No such file or directory" in line


def test_given_a_missing_file_error_without_errno_then_the_line_is_more_than_its_class() -> None:
    """What `./scripts/run` once printed on a fresh clone: `error: FileNotFoundError`."""
    line = explain(FileNotFoundError("api.json not found"))

    assert line is not None
    assert "api.json not found" in line and "check the path" in line
    line = explain(FileNotFoundError(2, "No such file or directory", "/x/keys.json"))
    assert line is not None and "/x/keys.json" in line and "No such file" in line


# -- a port in use -------------------------------------------------------------------------------


def test_given_the_port_in_use_then_the_sandbox_says_so_and_what_to_do(
    tmp_path: Path, busy_port: int
) -> None:
    line = _casevoice(tmp_path, "sandbox", "--port", str(busy_port))

    assert line == (
        f"error: cannot listen on 127.0.0.1:{busy_port} (it is in use); "
        "choose another port with --port"
    )


@pytest.mark.slow
def test_given_the_port_in_use_then_rehearse_says_so_and_what_to_do(
    initialised: Path, busy_port: int
) -> None:
    line = _casevoice(initialised, "rehearse", "--port", str(busy_port))

    assert f"127.0.0.1:{busy_port} (it is in use)" in line and "--port" in line


# -- an unreachable Bot API ----------------------------------------------------------------------


def test_given_an_unreachable_bot_api_then_invite_create_says_what_to_set(
    initialised: Path,
) -> None:
    api = f"http://127.0.0.1:{_free_port()}"

    line = _casevoice(
        initialised,
        "invite",
        "create",
        "ANY-CASE",
        "--role",
        "family",
        CASEVOICE_BOT_TOKEN=TOKEN,
        CASEVOICE_TELEGRAM_API=api,
    )

    assert api in line and "no connection" in line
    assert "CASEVOICE_BOT_USERNAME" in line and "CASEVOICE_TELEGRAM_API" in line
    assert TOKEN.split(":", 1)[1] not in line


@pytest.mark.slow
def test_given_an_unreachable_bot_api_then_the_bot_stops_with_one_line_saying_what_to_check(
    initialised: Path,
) -> None:
    """The bot retries getMe a few times (a blip is not fatal), then gives up in one line."""
    api = f"http://127.0.0.1:{_free_port()}"

    line = _casevoice(
        initialised, "run", CASEVOICE_BOT_TOKEN=TOKEN, CASEVOICE_TELEGRAM_API=api, timeout=180
    )

    assert line == (
        f"error: cannot reach the Bot API at {api} (no connection); check "
        "CASEVOICE_TELEGRAM_API and this machine's network, then start again"
    )
