"""The built wheel works on its own: installed into a fresh venv outside the repository,
`casevoice rehearse` starts and its page opens in headless Chromium.

The wheel is built from a copy of the source (the tree stays clean), the venv gets exactly the
hash-locked requirements and then the wheel without dependencies (`pip check` proves the lock
covers them), and everything runs with its working directory outside the repository and no
PYTHONPATH: the spec, the interview scripts, the page and the migrations must all come from
the wheel. This is what a user who runs `pip install .` gets.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import (
    PHONE,
    chromium,
    page_address,
    skip_module_unless_browser_tests_on,
)

pytestmark = pytest.mark.slow

skip_module_unless_browser_tests_on()

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements.lock"
NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", "tests", "bench", "build", "dist", "*.egg-info", "__pycache__",
    "test-artifacts", "casevoice-data", ".coverage*", ".*_cache",
)  # fmt: skip
INSTALL_TIMEOUT = 900
START_TIMEOUT = 180
STEP_MS = 30_000


@dataclass(frozen=True)
class Installed:
    venv: Path
    workdir: Path
    env: dict[str, str]


def _outside_env(workdir: Path) -> dict[str, str]:
    """No CASEVOICE_* setting, no PYTHONPATH, no coverage hook: only what a user would have."""
    drop = ("CASEVOICE_", "COVERAGE_", "PYTHON", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["CASEVOICE_DATA_DIR"] = str(workdir / "data")
    return env


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{args[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("wheel")
    assert REPO not in root.parents, "the venv must live outside the repository"
    workdir = root / "work"
    workdir.mkdir()
    env = _outside_env(workdir)

    # Given a wheel built from a copy of the source (the build writes into its tree)
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_SHIPPED)
    dist = root / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", dist, source],
        root,
        env,
    )
    wheel = next(dist.glob("casevoice-*.whl"))

    # And a fresh venv with the locked requirements, then the wheel alone
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", venv], root, env)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-compile"]
    _run([*pip, "--require-hashes", "-r", LOCK], workdir, env)
    _run([*pip, "--no-deps", wheel], workdir, env)
    _run([venv / "bin" / "python", "-m", "pip", "check"], workdir, env)
    yield Installed(venv, workdir, env)
    shutil.rmtree(venv)  # about 1 GB; pytest keeps its last temp folders


def test_the_installed_package_comes_from_the_venv_not_the_source_tree(
    installed: Installed,
) -> None:
    where = _run(
        [
            installed.venv / "bin" / "python",
            "-c",
            "import importlib.util, bot, sandbox.spec;"
            "print(bot.__file__);"
            "print(sandbox.spec.bundled_api_json());"
            "print(importlib.util.find_spec('tests'))",
        ],
        installed.workdir,
        installed.env,
    ).splitlines()

    site = installed.venv / "lib"
    assert Path(where[0]).is_relative_to(site), where
    assert Path(where[1]).is_relative_to(site) and Path(where[1]).is_file(), where
    assert where[2] == "None", "the repository's tests package is importable from the venv"


@pytest.fixture(scope="module")
def rehearsal(installed: Installed) -> Iterator[str]:
    """`casevoice rehearse --port 0` from the venv's own console script; its page address."""
    errors = installed.workdir / "rehearse.err"
    with errors.open("w") as stderr:
        proc = subprocess.Popen(
            [installed.venv / "bin" / "casevoice", "rehearse", "--port", "0"]
            + ["--whisper-model", "tiny.en"],
            cwd=installed.workdir,
            env=installed.env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    try:
        url = page_address(proc, START_TIMEOUT)
        assert url, f"no page address printed: {errors.read_text()}"
        yield url
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, errors.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_rehearse_from_the_wheel_serves_a_page_where_the_bot_answers(rehearsal: str) -> None:
    with chromium() as browser:
        page = browser.new_context(viewport=PHONE).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        page.goto(rehearsal)

        # The page enrols a person by itself; the bot (from the wheel) answers with consent.
        expect(page.get_by_role("log")).to_be_attached()
        greeting = page.locator("#log .row.bot", has_text="Continue").last
        expect(greeting).to_be_visible(timeout=STEP_MS)
        assert errors == []
