"""End-to-end voice latency: the real bot process against the sandbox Bot API.

Starts the sandbox (in this process) and `casevoice run` (default model, embedded worker pool),
sends every clip in tests/fixtures/audio as a voice note — one after another, then 4 at once — and
measures, from the moment the sandbox accepted the voice note:

- first words: the bot's first "Listening to your voice note…" (or "Here is what I heard")
  message in that chat, i.e. the first words on screen;
- heard: the "Here is what I heard" message (sent or edited into place).

Times come from the sandbox's request log (wall clock, same process), not from polling. Also
measures text-reply latency (a text answer → the bot's reply) for a few participants typing
while 4 voice notes are being transcribed, and the RSS of the bot and its Whisper workers.

    .venv/bin/python bench/voice_e2e.py                  # base, 2 workers, all clips
    .venv/bin/python bench/voice_e2e.py --model tiny.en --texters 8

Targets (shared/BRIEF.md, 2 cores): heard ≤ 0.2 × length + 1.5 s; first words of a long note
within 3 s; text reply p95 < 200 ms while 4 notes are transcribed; bot < 600 MB RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bot.container import Container  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from sandbox.client import SandboxClient  # noqa: E402
from sandbox.server import create_app, start_sandbox  # noqa: E402
from tests.e2e.people import Person  # noqa: E402
from tests.e2e.voice_helpers import clip_seconds  # noqa: E402
from tests.e2e.world import BOT_USERNAME, CASE_REF, CASEVOICE, BotProcess, bot_env  # noqa: E402
from tests.fixtures import AUDIO_DIR  # noqa: E402

HEARING = "Listening to your voice note"
HEARD = "Here is what I heard"
FAILED = "Sorry, I couldn't write down"


@dataclass
class Note:
    clip: str
    seconds: float
    user_id: int
    sent_at: float = 0.0
    message_id: int = 0
    first_words: float | None = None
    heard: float | None = None
    text: str = ""

    @property
    def target(self) -> float:
        return 0.2 * self.seconds + 1.5


@dataclass
class Memory:
    bot_peak: int = 0
    workers_peak: dict[int, int] = field(default_factory=dict)
    bot_loaded: int = 0
    workers_loaded: dict[int, int] = field(default_factory=dict)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [CASEVOICE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"casevoice {args[0]} failed: {done.stdout}{done.stderr}")
    return done.stdout


async def prepare(data_dir: Path, invites: int) -> list[str]:
    """A data dir with a case and `invites` family invites (as an administrator makes them)."""
    env = bot_env(data_dir)
    cli(env, "init")
    identity = data_dir.parent / "reviewer-identity.txt"
    keygen = cli(env, "review", "keygen", "--out", str(identity))
    recipient = re.search(r"age1[0-9a-z]{20,}", keygen)
    assert recipient is not None
    cli(env, "case", "create", CASE_REF, "--recipient", recipient.group(0))
    settings = load_settings(data_dir=data_dir, bot_username=BOT_USERNAME)
    async with await Container.open(settings, run_migrations=False) as container:
        return [(await container.invites.create(CASE_REF, "family")).code for _ in range(invites)]


async def wait_ready(bot: BotProcess, timeout: float = 300.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while "worker(s) ready" not in bot.log_text():
        if time.monotonic() > deadline or (bot.proc and bot.proc.returncode is not None):
            raise SystemExit(
                "the bot's Whisper workers never became ready:\n" + bot.log_text()[-2000:]
            )
        await asyncio.sleep(0.2)


def sample_memory(pid: int, memory: Memory) -> None:
    try:
        bot = psutil.Process(pid)
        memory.bot_peak = max(memory.bot_peak, bot.memory_info().rss)
        for child in bot.children(recursive=True):
            rss = child.memory_info().rss
            memory.workers_peak[child.pid] = max(memory.workers_peak.get(child.pid, 0), rss)
    except psutil.NoSuchProcess:
        pass


async def watch_memory(pid: int, memory: Memory, stop: asyncio.Event) -> None:
    while not stop.is_set():
        sample_memory(pid, memory)
        await asyncio.sleep(0.25)


def chat_texts(
    requests: list[dict[str, Any]], chat_id: int, since: float
) -> list[tuple[float, str]]:
    """(time, text) of every sendMessage/editMessageText to `chat_id` from `since` on."""
    out = []
    for r in requests:
        params = r.get("params") or {}
        if (
            r["method"] in ("sendMessage", "editMessageText")
            and r["time"] >= since
            and str(params.get("chat_id")) == str(chat_id)
        ):
            out.append((float(r["time"]), str(params.get("text") or "")))
    return out


async def send_note(client: SandboxClient, note: Note, data: bytes) -> None:
    sent = await client.send_voice(note.user_id, data, max(1, round(note.seconds)))
    note.sent_at = time.time()  # the sandbox has queued the update for the bot
    note.message_id = int(sent["message_id"])


async def wait_heard(client: SandboxClient, notes: list[Note]) -> None:
    """Wait (event-driven) for each note's answer, then read exact times from the request log."""
    await asyncio.gather(
        *(
            client.wait_for_bot_message(
                n.user_id, contains=HEARD, after_message_id=n.message_id, timeout=290
            )
            for n in notes
        )
    )
    requests = await client.requests()
    for note in notes:
        for at, text in chat_texts(requests, note.user_id, note.sent_at):
            if note.first_words is None and text.startswith((HEARING, HEARD, FAILED)):
                note.first_words = at - note.sent_at
            if note.heard is None and text.startswith((HEARD, FAILED)):
                note.heard = at - note.sent_at
                note.text = text


async def texting(
    client: SandboxClient,
    user_id: int,
    rounds: int,
    latencies: list[float],
    stop: asyncio.Event | None,
) -> None:
    """Type answers one after another; latency = text accepted → the bot's reply appears."""
    for n in range(rounds):
        if stop is not None and stop.is_set():
            return
        sent = await client.send_text(user_id, f"A typed answer, part {n}.")
        accepted = time.time()
        await client.wait_for_bot_message(
            user_id, contains="Saved", after_message_id=int(sent["message_id"]), timeout=30
        )
        latencies.append(time.time() - accepted)
        await asyncio.sleep(0.3)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


_JOB_LINE = re.compile(r"transcribed (\d+\.\d)s of audio in (\d+\.\d+)s")


def job_times(log: str) -> list[tuple[float, float]]:
    """(audio seconds, job seconds) of every job the bot logged, in order."""
    return [(float(a), float(b)) for a, b in _JOB_LINE.findall(log)]


def print_notes(title: str, notes: list[Note], jobs: list[tuple[float, float]]) -> None:
    """`job` is the loop's own time for the note (decrypt, Whisper, store), from the bot's log."""
    print(f"\n{title}")
    print(f"  {'clip':<18}{'length':>8}{'first words':>13}{'heard':>8}{'job':>8}{'target':>8}")
    for n in notes:
        assert n.heard is not None and n.first_words is not None
        mark = "ok" if n.heard <= n.target else "OVER"
        job = next((j for a, j in jobs if abs(a - n.seconds) < 0.15), float("nan"))
        print(
            f"  {n.clip:<18}{n.seconds:>7.1f}s{n.first_words:>12.2f}s{n.heard:>7.2f}s"
            f"{job:>7.2f}s{n.target:>7.2f}s  {mark}"
        )
    heard = [n.heard for n in notes if n.heard is not None]
    first = [n.first_words for n in notes if n.first_words is not None]
    ratio = [n.heard / n.target for n in notes if n.heard is not None]
    print(
        f"  median: first words {statistics.median(first):.2f} s, heard "
        f"{statistics.median(heard):.2f} s, heard/target {statistics.median(ratio):.2f} "
        f"({sum(r <= 1 for r in ratio)}/{len(ratio)} within target)"
    )


async def main(args: argparse.Namespace) -> None:
    clips_dir = AUDIO_DIR
    names = args.clips or sorted(p.stem for p in clips_dir.glob("*.ogg"))
    audio = {name: (clips_dir / f"{name}.ogg").read_bytes() for name in names}
    seconds = {name: clip_seconds(data) for name, data in audio.items()}
    concurrent = sorted(names, key=lambda n: -seconds[n])[:4]

    root = Path(tempfile.mkdtemp(prefix="casevoice-bench-"))
    data_dir = root / "data"
    codes = await prepare(data_dir, 1 + len(concurrent) + args.texters)
    sandbox = await start_sandbox("127.0.0.1", 0, create_app())
    client = SandboxClient(sandbox.url)
    env = bot_env(data_dir, sandbox.url)
    env.update(
        CASEVOICE_WHISPER_MODEL=args.model,
        CASEVOICE_TRANSCRIPTION_WORKERS=str(args.workers),
        CASEVOICE_LOG_LEVEL="INFO",
    )
    bot = BotProcess(env, root / "bot.log", client)
    memory = Memory()
    try:
        started = time.monotonic()
        await bot.start()
        await wait_ready(bot)
        assert bot.proc is not None
        print(
            f"bot ready with {args.workers} × {args.model} in "
            f"{time.monotonic() - started:.1f} s (clips: {clips_dir})"
        )
        stop_watch = asyncio.Event()
        watcher = asyncio.create_task(watch_memory(bot.proc.pid, memory, stop_watch))

        people = [Person(client, 880_000_000 + i) for i in range(len(codes))]
        for person, code in zip(people, codes, strict=True):
            await person.consent(code)
        sample_memory(bot.proc.pid, memory)
        memory.bot_loaded, memory.workers_loaded = memory.bot_peak, dict(memory.workers_peak)

        # Text replies with nothing else going on
        idle: list[float] = []
        texters = people[1 + len(concurrent) :]
        await asyncio.gather(
            *(texting(client, p.user_id, args.rounds, idle, None) for p in texters)
        )

        # One note at a time
        sequential = []
        for name in names:
            note = Note(name, seconds[name], people[0].user_id)
            await send_note(client, note, audio[name])
            await wait_heard(client, [note])
            sequential.append(note)
        print_notes("one voice note at a time", sequential, job_times(bot.log_text()))

        # Four at once, while participants type
        notes = [
            Note(name, seconds[name], people[1 + i].user_id) for i, name in enumerate(concurrent)
        ]
        await asyncio.gather(*(send_note(client, n, audio[n.clip]) for n in notes))
        busy: list[float] = []
        stop_typing = asyncio.Event()
        typing = [
            asyncio.create_task(texting(client, p.user_id, 1000, busy, stop_typing))
            for p in texters
        ]
        await wait_heard(client, notes)
        stop_typing.set()
        await asyncio.gather(*typing)
        done_before = len(job_times(bot.log_text())) - len(notes)
        print_notes(
            f"{len(notes)} voice notes at once ({args.workers} workers)",
            notes,
            job_times(bot.log_text())[done_before:],
        )

        stop_watch.set()
        await watcher
        print(
            f"\ntext replies ({len(texters)} participants typing): idle p50 "
            f"{pct(idle, 0.5) * 1000:.0f} ms p95 {pct(idle, 0.95) * 1000:.0f} ms (n={len(idle)});"
            f" while {len(notes)} notes are transcribed p50 {pct(busy, 0.5) * 1000:.0f} ms "
            f"p95 {pct(busy, 0.95) * 1000:.0f} ms (n={len(busy)}); target p95 < 200 ms"
        )
        mb = 1024 * 1024
        print(
            f"RSS: bot {memory.bot_loaded / mb:.0f} MB with the model loaded, peak "
            f"{memory.bot_peak / mb:.0f} MB (target < 600 MB); workers "
            + ", ".join(f"{v / mb:.0f}" for v in memory.workers_loaded.values())
            + " MB loaded, peak "
            + ", ".join(f"{v / mb:.0f}" for v in memory.workers_peak.values())
            + " MB"
        )
        if args.json:
            print(
                json.dumps(
                    {
                        "sequential": [n.__dict__ for n in sequential],
                        "concurrent": [n.__dict__ for n in notes],
                        "text_idle_s": idle,
                        "text_busy_s": busy,
                        "rss": memory.__dict__,
                    },
                    default=str,
                )
            )
    finally:
        await bot.kill()
        await client.close()
        await sandbox.close()
        if args.keep:
            print(f"kept {root} (bot log: {root / 'bot.log'})")
        else:
            shutil.rmtree(root, ignore_errors=True)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="base", help="base | tiny.en | a model folder")
    parser.add_argument("--workers", type=int, default=2, help="Whisper worker processes")
    parser.add_argument("--clips", nargs="*", help="clip names (default: all in tests/fixtures)")
    parser.add_argument("--texters", type=int, default=4, help="participants typing")
    parser.add_argument("--rounds", type=int, default=10, help="idle text answers each")
    parser.add_argument("--json", action="store_true", help="also print raw figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and bot log")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
