"""Rehearsal mode in a real browser: `casevoice rehearse` and its chat page in headless Chromium.

One `casevoice rehearse --case REF` process serves both tests: a real case (made with the CLI,
with a three-question script of its own) is rehearsed, the real bot runs against the sandbox, and
Chromium drives the page like a person on a phone: consent buttons, a typed answer, a button, an
uploaded voice note transcribed by Whisper tiny.en, the read-back. A screenshot is kept in
`test-artifacts/rehearsal.png`. Teardown sends Ctrl-C (SIGINT) and checks that everything stopped.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.browser import (
    PHONE,
    chromium,
    page_address,
    skip_module_unless_browser_tests_on,
)
from tests.e2e.world import CASEVOICE
from tests.fixtures import clip_path

pytestmark = pytest.mark.slow

skip_module_unless_browser_tests_on()

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CASE_REF = "LCSPR-REHEARSE-01"
START_TIMEOUT = 120.0
STEP_MS = 20_000
TRANSCRIBE_MS = 120_000
SCRIPT = """\
id: rehearsal-short
version: 1
title: A short rehearsal
audience: family
language: en
intro: |
  Three short questions to try the bot.
sections:
  - id: main
    title: Three questions
    prompts:
      - id: relationship
        kind: free
        text: How do you know the child?
      - id: contact
        kind: choice
        text: Were you in touch with any services?
        choices:
          - {value: often, label: "Yes, often"}
          - {value: sometimes, label: "Sometimes"}
          - {value: never, label: "Never"}
      - id: wish
        kind: free
        text: What do you wish had happened?
"""


@dataclass(frozen=True)
class Rehearsal:
    url: str
    data_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen[str]


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [CASEVOICE, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"casevoice {args[0]} failed: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    # Given a real case with its own three-question script (cwd is a temp dir: no .env leaks in)
    root = tmp_path_factory.mktemp("rehearsal")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVOICE_")}
    env.update(CASEVOICE_DATA_DIR=str(root / "data"), CASEVOICE_TRANSCRIPTION_WORKERS="1")
    _cli(env, root, "init")
    keygen = _cli(env, root, "review", "keygen", "--out", str(root / "reviewer.txt"))
    recipient = re.search(r"age1[0-9a-z]{20,}", keygen)
    assert recipient is not None, "review keygen printed no age1 recipient"
    (root / "short.yaml").write_text(SCRIPT, encoding="utf-8")
    _cli(
        env,
        root,
        "case",
        "create",
        CASE_REF,
        "--recipient",
        recipient.group(0),
        "--script",
        f"family={root / 'short.yaml'}",
    )

    # When `casevoice rehearse --case` starts (in its own process group, to clean up after it)
    stderr = (root / "rehearse.err").open("w")
    proc = subprocess.Popen(
        [CASEVOICE, "rehearse", "--case", CASE_REF, "--port", "0", "--whisper-model", "tiny.en"],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )
    try:
        url = page_address(proc, START_TIMEOUT)
        assert url, f"no page URL printed: {(root / 'rehearse.err').read_text()}"
        yield Rehearsal(url, root / "data", env, proc)
        # Then Ctrl-C stops everything: the command, the bot and its transcription workers
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=45) == 0, (root / "rehearse.err").read_text()
        assert proc.stdout is not None and proc.stdout.read() == "", "more than one line printed"
        deadline = time.monotonic() + 10
        while _running_in_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _running_in_group(proc.pid) == [], "a rehearsal process outlived Ctrl-C"
    finally:
        if proc.poll() is None or _running_in_group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        stderr.close()


def _running_in_group(pgid: int) -> list[int]:
    """Processes of the group that still run (zombies an init never reaped do not count)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            running.append(int(stat.parent.name))
    return running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


# --- the page, as a person sees it -----------------------------------------------------------


def bot_says(page: Page, text: str, after: int = 0) -> Locator:
    """The newest bot message containing `text`, waited for (and newer than message `after`)."""
    page.wait_for_function(
        """([text, after]) => [...document.querySelectorAll('#log .row.bot')].some(
             (row) => Number(row.dataset.id) > after && row.textContent.includes(text))""",
        arg=[text, after],
        timeout=STEP_MS,
    )
    return page.locator("#log .row.bot", has_text=text).last


def newest(page: Page) -> int:
    return int(
        page.evaluate(
            "() => Math.max(0, ...[...document.querySelectorAll('#log .row')]"
            ".map((row) => Number(row.dataset.id)))"
        )
    )


def press(page: Page, label: str) -> None:
    """Tap the newest inline button with this label (a real <button>, found by its name)."""
    page.locator("#log .row.bot").get_by_role("button", name=label, exact=True).last.click()


def consent(page: Page) -> None:
    bot_says(page, "Continue")
    for button, reply in (
        ("Continue", "Your choice (1 of 3)"),
        ("Yes, I'd like to take part", "Your choice (2 of 3)"),
        ("Yes, you can quote me", "Your choice (3 of 3)"),
        ("Yes, that's fine", "Question 1 of 3"),
    ):
        after = newest(page)
        press(page, button)
        bot_says(page, reply, after)


def chat_text(page: Page) -> str:
    return page.locator("#log").inner_text()


# --- the tests --------------------------------------------------------------------------------


def test_a_whole_rehearsal_interview_in_the_browser(rehearsal: Rehearsal, browser: Browser) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # Given the page, which enrols a fresh person with /start and their invite by itself
        page.goto(rehearsal.url)
        expect(page.get_by_role("log")).to_be_attached()

        # When they consent with the buttons, type an answer, tap a choice
        consent(page)
        assert "How do you know the child?" in chat_text(page), "the case's own script is used"
        after = newest(page)
        page.get_by_label("Message").fill("I am his aunt")
        page.get_by_label("Message").press("Enter")
        bot_says(page, "Saved", after)
        expect(page.locator("#log .row.me", has_text="I am his aunt")).to_be_visible()
        after = newest(page)
        press(page, "✅ Done")
        bot_says(page, "Question 2 of 3", after)
        after = newest(page)
        press(page, "Sometimes")
        bot_says(page, "Question 3 of 3", after)

        # and send a voice note picked from a file
        after = newest(page)
        page.locator("#audio-file").set_input_files(clip_path("real_goforward"))
        expect(page.locator("#log .row.me .voice").last).to_be_visible(timeout=STEP_MS)
        page.wait_for_function(
            """(after) => [...document.querySelectorAll('#log .row.bot')].some(
                 (row) => Number(row.dataset.id) > after
                          && row.textContent.includes('Here is what I heard'))""",
            arg=after,
            timeout=TRANSCRIBE_MS,
        )
        heard = page.locator("#log .row.bot", has_text="Here is what I heard").last
        assert "forward" in heard.inner_text().lower(), heard.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "rehearsal-voice.png"))
        after = newest(page)
        press(page, "✓ That's right")
        bot_says(page, "Saved", after)
        after = newest(page)
        press(page, "✅ Done")

        # Then the read-back holds the typed answer, the choice and what was heard
        bot_says(page, "Your statement is ready", after)
        shown = chat_text(page)
        assert "I am his aunt" in shown and "Sometimes" in shown
        expect(page.get_by_role("button", name="📨 Send to the reviewer")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "rehearsal.png"))

        # The page is keyboard-usable: every inline button is a <button>; new messages announced
        kinds = page.eval_on_selector_all("#log .kb", "(nodes) => nodes.map((n) => n.tagName)")
        assert kinds and set(kinds) == {"BUTTON"}
        assert page.get_attribute("#log", "aria-live") == "polite"
        page.get_by_role("button", name="Menu: the bot's commands").click()
        expect(page.locator("#menu-list button").first).to_be_focused()
        expect(page.locator("#menu")).to_contain_text("/help")
        page.keyboard.press("Escape")
        expect(page.locator("#menu")).to_be_hidden()
        assert errors == [], f"the page threw: {errors}"
    finally:
        context.close()

    # And the rehearsal left the real case alone: no participant was added to it
    shown_case = json.loads(
        _cli(rehearsal.env, rehearsal.data_dir.parent, "case", "show", CASE_REF, "--json")
    )
    assert shown_case["participants"] == []


def test_two_tabs_are_two_people(rehearsal: Rehearsal, browser: Browser) -> None:
    # Given two tabs in one browser
    context = browser.new_context(viewport=PHONE)
    try:
        first, second = context.new_page(), context.new_page()
        for page in (first, second):
            page.goto(rehearsal.url)
            bot_says(page, "Continue")
        people = [
            json.loads(p.evaluate("sessionStorage.getItem('casevoice-rehearsal-person')"))
            for p in (first, second)
        ]
        assert people[0]["user_id"] != people[1]["user_id"]
        assert people[0]["code"] != people[1]["code"]

        # When the first person types and taps, and the second types something else
        after = newest(first)
        first.get_by_label("Message").fill("only-in-the-first-tab")
        first.get_by_label("Message").press("Enter")
        press(first, "Continue")
        bot_says(first, "Your choice (1 of 3)", after)
        after = newest(second)
        second.get_by_label("Message").fill("only-in-the-second-tab")
        second.get_by_label("Message").press("Enter")
        expect(second.locator("#log .row.me", has_text="only-in-the-second-tab")).to_be_visible()
        # the bot's answer to it (the introduction again): the second tab is up to date with
        # everything before it, so a wrongly shared chat would show the first tab's lines now
        bot_says(second, "Continue", after)
        # and one more exchange in the first tab, so that it is up to date with the second's
        after = newest(first)
        first.get_by_label("Message").fill("still-the-first-tab")
        first.get_by_label("Message").press("Enter")
        bot_says(first, "Your choice (1 of 3)", after)

        # Then each tab shows its own chat and nothing of the other's
        expect(first.locator("#log .row.me", has_text="only-in-the-first-tab")).to_be_visible()
        assert "only-in-the-first-tab" not in chat_text(second)
        assert "Your choice (1 of 3)" not in chat_text(second)
        assert "only-in-the-second-tab" not in chat_text(first)
    finally:
        context.close()


def test_a_voice_note_recorded_in_the_browser_reaches_the_bot(
    rehearsal: Rehearsal, browser: Browser
) -> None:
    # Given a person at the first question, with a (fake) microphone
    context = browser.new_context(viewport=PHONE, permissions=["microphone"])
    try:
        page = context.new_page()
        page.goto(rehearsal.url)
        consent(page)

        # When they record for a moment with the record button, then stop it
        after = newest(page)
        page.get_by_role("button", name="Record a voice note").click()
        expect(page.locator("#recording")).to_be_visible()
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="Stop and send the voice note").click()

        # Then the note is in the chat and the bot took it (a tone has no words to hear)
        expect(page.locator("#log .row.me .voice").last).to_be_visible(timeout=STEP_MS)
        bot_says(page, "I have your voice note", after)
        expect(page.get_by_role("button", name="Record a voice note")).to_have_attribute(
            "aria-pressed", "false"
        )
    finally:
        context.close()
