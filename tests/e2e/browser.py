"""Headless Chromium (Debian's package) for the browser tests, and the setting that turns them off.

The browser tests run unless ``CASEVOICE_WITH_BROWSER=0`` (a skip on the allowlist). When they
run, a missing chromium FAILS: CI exports ``CASEVOICE_WITH_BROWSER=1`` and ``scripts/setup``
installs chromium, so a skip there would only hide a broken install.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

WITH_BROWSER_ENV = "CASEVOICE_WITH_BROWSER"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A fake microphone (a tone) that needs no permission prompt: recording works.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 390, "height": 844}


def skip_module_unless_browser_tests_on() -> None:
    if os.environ.get(WITH_BROWSER_ENV, "1") == "0":
        pytest.skip(
            f"{WITH_BROWSER_ENV}=0: the browser tests are turned off", allow_module_level=True
        )


@contextmanager
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/setup (it installs Debian's chromium for the "
            f"tests), or set {WITH_BROWSER_ENV}=0 to turn the browser tests off",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def page_address(proc: subprocess.Popen[str], timeout: float) -> str | None:
    """The rehearsal page a `casevoice rehearse` prints as its first line (None: not in time)."""
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        return None
    match = re.search(r"http://127\.0\.0\.1:\d+/rehearse/", line)
    return match.group(0) if match else None
