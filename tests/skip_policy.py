"""A green run means everything ran: with ``CASEVOICE_STRICT_SKIPS=1`` any skip fails the run
unless its reason is on the short, commented allowlist in ``tests/allowed-skips.txt``.

``./scripts/test`` sets the variable, so CI and a developer's full run both fail on a test that
quietly stopped running (a missing tool, a guard that no longer matches what CI exports). A
plain ``pytest`` run only reports skips (``-rs``). Registered by ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

STRICT_ENV = "CASEVOICE_STRICT_SKIPS"
ALLOWLIST = Path(__file__).resolve().parent / "allowed-skips.txt"


@dataclass(frozen=True)
class Skip:
    nodeid: str
    reason: str


def allowed_reasons(path: Path) -> list[str]:
    """One reason a line, as pytest prints it after "Skipped: "; `#` starts the why."""
    reasons = []
    for line in path.read_text(encoding="utf-8").splitlines():
        reason = line.split("#", 1)[0].strip()
        if reason:
            reasons.append(reason)
    return reasons


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ").strip()


class SkipPolicy:
    """Collects every skip (collection and tests); under the strict setting, unlisted ones fail."""

    def __init__(self, strict: bool, allowlist: Path = ALLOWLIST) -> None:
        self.strict = strict
        self.allowlist = allowlist
        self.skips: list[Skip] = []

    def _record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skips.append(Skip(report.nodeid, _reason(report)))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def unexpected(self) -> list[Skip]:
        allowed = allowed_reasons(self.allowlist)
        return [s for s in self.skips if not any(s.reason.startswith(a) for a in allowed)]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.strict and self.unexpected() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.strict:
            return
        unexpected = self.unexpected()
        if not unexpected:
            allowed = len(self.skips)
            terminalreporter.write_line(
                f"skips: {allowed} (all on {self.allowlist.name}); none unexpected"
            )
            return
        terminalreporter.section("skips not on the allowlist: they fail the run", red=True)
        for skip in unexpected:
            terminalreporter.write_line(f"{skip.nodeid}: {skip.reason}")
        terminalreporter.write_line(
            f"Make them run, or add the reason to {self.allowlist} with a comment saying why."
        )


def register(config: pytest.Config, allowlist: Path = ALLOWLIST) -> None:
    strict = os.environ.get(STRICT_ENV) == "1" and not config.option.collectonly
    config.pluginmanager.register(SkipPolicy(strict, allowlist), "casevoice-skip-policy")
