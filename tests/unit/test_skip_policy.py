"""The skip policy itself: under CASEVOICE_STRICT_SKIPS=1 an unlisted skip fails the run.

Each test runs pytest as a subprocess on a small made-up suite that registers the policy with
its own allowlist, and reads its exit status and summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFTEST = """\
from pathlib import Path

from tests import skip_policy


def pytest_configure(config):
    skip_policy.register(config, Path(__file__).parent / "allowed.txt")
"""
SUITE = """\
import pytest


def test_runs():
    assert True


def test_needs_a_gpu():
    pytest.skip("no GPU on this machine")


def test_quietly_stopped():
    pytest.skip("tool not installed")
"""


def _pytest(suite: Path, *, strict: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CASEVOICE_STRICT_SKIPS"}
    env["PYTHONPATH"] = str(REPO)
    if strict:
        env["CASEVOICE_STRICT_SKIPS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(suite)],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_suite.py").write_text(SUITE)
    (tmp_path / "allowed.txt").write_text("# a GPU-only test\nno GPU   # on CPU-only machines\n")
    return tmp_path


def test_given_an_unlisted_skip_when_strict_then_the_run_fails_naming_it(suite: Path) -> None:
    done = _pytest(suite, strict=True)

    assert done.returncode == 1, done.stdout
    assert "skips not on the allowlist" in done.stdout
    assert "test_suite.py::test_quietly_stopped: tool not installed" in done.stdout
    assert "test_needs_a_gpu:" not in done.stdout.split("skips not on the allowlist")[1]


def test_given_only_listed_skips_when_strict_then_the_run_passes(suite: Path) -> None:
    (suite / "allowed.txt").write_text("no GPU  # GPU only\ntool not installed  # why\n")

    done = _pytest(suite, strict=True)

    assert done.returncode == 0, done.stdout
    assert "none unexpected" in done.stdout


def test_given_a_module_skipped_at_collection_when_strict_then_the_run_fails(suite: Path) -> None:
    (suite / "test_module.py").write_text(
        "import pytest\n\npytest.skip('whole module off', allow_module_level=True)\n"
    )
    (suite / "allowed.txt").write_text("no GPU\ntool not installed\n")

    done = _pytest(suite, strict=True)

    assert done.returncode == 1, done.stdout
    assert "test_module.py: whole module off" in done.stdout


def test_given_no_strict_setting_then_skips_are_only_reported(suite: Path) -> None:
    done = _pytest(suite, strict=False)

    assert done.returncode == 0, done.stdout
    assert "SKIPPED" in done.stdout and "tool not installed" in done.stdout
