"""Reply latency and throughput with many participants answering at once (embedded default).

Starts the sandbox Bot API and the real bot (`casevoice run`, SQLite, local key file) as
separate processes, enrols N participants concurrently (invites made through the services, as
the CLI makes them), then runs rounds in which every participant sends a text answer at the
same moment, and (after each of the first rounds) taps Done to move to the next question.

Latency is measured on the sandbox's clock: from the moment the sandbox accepted the person's
message (`accepted_at`) to the moment the bot's reply reached the sandbox (its request log).
Figures are per run; the summary is the median over `--repeat` runs.

    .venv/bin/python bench/conversation.py --participants 50 --rounds 6 --repeat 3

Target (shared/BRIEF.md): text answer acknowledged, p95 < 200 ms at 50 participants.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.client import SandboxClient  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
CASEVOICE = str(ROOT / ".venv" / "bin" / "casevoice")
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz012"  # noqa: S105 - the sandbox token
CASE_REF = "BENCH-1"
FREE_PROMPTS = 5  # the family script opens with five free-text prompts
FIRST_USER = 900_000_001


@dataclass
class RunFigures:
    text_ms: list[float] = field(default_factory=list)
    done_ms: list[float] = field(default_factory=list)
    round_seconds: list[float] = field(default_factory=list)
    replies: int = 0

    def summary(self) -> dict[str, float]:
        busy = sum(self.round_seconds)
        return {
            **percentiles("text", self.text_ms),
            **percentiles("done", self.done_ms),
            "throughput": self.replies / busy if busy else 0.0,
        }


def percentiles(name: str, values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    return {
        f"{name}_p50": pick(0.50),
        f"{name}_p95": pick(0.95),
        f"{name}_p99": pick(0.99),
        f"{name}_max": ordered[-1],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(data_dir: Path, api: str | None, log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVOICE_")}
    env.update(
        CASEVOICE_DATA_DIR=str(data_dir),
        CASEVOICE_BOT_TOKEN=TOKEN,
        CASEVOICE_BOT_USERNAME="casevoice_sandbox_bot",
        CASEVOICE_LOG_LEVEL=log_level,
        CASEVOICE_TRANSCRIPTION_WORKERS="0",
    )
    if api is not None:
        env["CASEVOICE_TELEGRAM_API"] = api
    return env


async def prepare(data_dir: Path, participants: int) -> list[str]:
    """`casevoice init`, a case and one invite per participant; returns the invite codes."""
    init = await asyncio.create_subprocess_exec(
        CASEVOICE,
        "init",
        env=env_for(data_dir, None, "WARNING"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await init.communicate()
    if init.returncode != 0:
        raise SystemExit(f"casevoice init failed: {err.decode()}")
    import pyrage

    from bot.container import Container
    from bot.settings import load_settings

    recipient = str(pyrage.x25519.Identity.generate().to_public())
    settings = load_settings(data_dir=data_dir, bot_username="casevoice_sandbox_bot")
    async with await Container.open(settings, run_migrations=False) as container:
        await container.cases.create(CASE_REF, [recipient])
        return [
            (await container.invites.create(CASE_REF, "family")).code for _ in range(participants)
        ]


async def wait_for(
    check: Callable[[], Awaitable[bool]],
    timeout: float,  # noqa: ASYNC109
    what: str,
    every: float = 0.05,
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(every)


async def has_button(client: SandboxClient, chat_id: int, data: str) -> bool:
    try:
        messages = await client.bot_messages(chat_id)
    except Exception:  # noqa: BLE001 - no chat yet
        return False
    return any(b.get("callback_data") == data for m in messages for b in m["buttons"])


async def enrol(client: SandboxClient, user_id: int, code: str) -> None:
    """/start, Continue, and yes to the three consent questions."""
    steps = [
        ("ok", "cy:take_part"),
        ("cy:take_part", "cy:quote"),
        ("cy:quote", "cy:anonymised_publication"),
        ("cy:anonymised_publication", "done:relationship"),
    ]
    await client.send_command(user_id, "start", code)
    await wait_for(lambda: has_button(client, user_id, "ok"), 60, "intro", 0.2)
    for press, then in steps:
        await client.press_button(user_id, data=press)
        if then.startswith("done:"):
            await wait_for(
                lambda: has_button(client, user_id, "pause:relationship"), 60, "first prompt", 0.2
            )
        else:
            await wait_for(lambda t=then: has_button(client, user_id, t), 60, press, 0.2)


async def quiet(client: SandboxClient, settle: float = 0.4, timeout: float = 120) -> None:  # noqa: ASYNC109
    """Until every update is acknowledged and the bot has made no request for `settle` s."""
    deadline = time.monotonic() + timeout
    last = await client.counts()
    calm_since = time.monotonic()
    while True:
        await asyncio.sleep(0.05)
        now = await client.counts()
        pending = (await client.updates())["pending"]
        if now != last or pending:
            last, calm_since = now, time.monotonic()
        elif time.monotonic() - calm_since >= settle:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the bot never went quiet")


def first_reply(
    log: list[dict[str, Any]], chat_id: int, since: float, starts: str | None = None
) -> float | None:
    for entry in log:
        params = entry.get("params") or {}
        if params.get("chat_id") != chat_id or entry["time"] < since:
            continue
        if starts is None or str(params.get("text", "")).startswith(starts):
            return float(entry["time"])
    return None


async def measured_round(
    client: SandboxClient,
    users: list[int],
    act: Callable[[int], Awaitable[dict[str, Any]]],
    method: str,
    starts: str | None,
    figures: list[float],
    spread: float = 0.0,
) -> tuple[int, float]:
    """Everyone acts at once (or within ``spread`` seconds, at random moments, as people
    typing at their own pace do); per person, accepted → first matching reply."""
    base = (await client.counts()).get(method, 0)

    async def later(user: int) -> dict[str, Any]:
        await asyncio.sleep(random.uniform(0.0, spread))  # noqa: S311 - load shape, not crypto
        return await act(user)

    results = await asyncio.gather(*(later(u) if spread else act(u) for u in users))
    accepted = {u: float(r["accepted_at"]) for u, r in zip(users, results, strict=True)}
    deadline = time.monotonic() + 120
    while True:
        await asyncio.sleep(0.2)
        if (await client.counts()).get(method, 0) - base < len(users):
            if time.monotonic() > deadline:
                raise RuntimeError("the bot stopped replying")
            continue
        log = await client.requests(method)
        replies = {u: first_reply(log, u, at, starts) for u, at in accepted.items()}
        if all(r is not None for r in replies.values()):
            break
        if time.monotonic() > deadline:
            missing = [u for u, r in replies.items() if r is None]
            raise RuntimeError(f"no reply for {len(missing)} participant(s) this round")
    for user, at in accepted.items():
        figures.append((float(replies[user] or 0.0) - at) * 1000)
    latest = max(float(r or 0.0) for r in replies.values())
    await quiet(client)
    return len(users), latest - min(accepted.values())


async def one_run(args: argparse.Namespace, run: int) -> RunFigures:
    work = Path(tempfile.mkdtemp(prefix="cv-bench-"))
    data_dir = work / "data"
    procs: list[asyncio.subprocess.Process] = []
    try:
        codes = await prepare(data_dir, args.participants)
        port = free_port()
        sandbox = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            "sandbox",
            "--port",
            str(port),
            cwd=str(ROOT),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        procs.append(sandbox)
        url = f"http://127.0.0.1:{port}"
        client = SandboxClient(url)
        try:
            await wait_for(lambda: _healthy(client), 30, "sandbox start")
            with (work / "bot.log").open("wb") as log:
                bot = await asyncio.create_subprocess_exec(
                    CASEVOICE,
                    "run",
                    env=env_for(data_dir, url, args.log_level),
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                )
            procs.append(bot)

            async def polling() -> bool:
                return (await client.counts()).get("getUpdates", 0) > 0

            await wait_for(polling, 60, "bot start")
            users = [FIRST_USER + i for i in range(args.participants)]
            started = time.monotonic()
            await asyncio.gather(*(enrol(client, u, c) for u, c in zip(users, codes, strict=True)))
            print(
                f"  run {run}: {len(users)} enrolled in {time.monotonic() - started:.1f}s",
                flush=True,
            )
            await quiet(client)
            figures = RunFigures()
            for number in range(1, args.rounds + 1):
                prompt = await _prompt(client, users[0])

                async def answer(user: int, n: int = number) -> dict[str, Any]:
                    return await client.send_text(user, f"Answer {n} from a bench participant.")

                replies, seconds = await measured_round(
                    client, users, answer, "sendMessage", "Saved.", figures.text_ms, args.spread
                )
                figures.replies += replies
                figures.round_seconds.append(seconds)
                if number < FREE_PROMPTS:

                    async def done(user: int, p: str = prompt) -> dict[str, Any]:
                        return await client.press_button(user, data=f"done:{p}")

                    replies, seconds = await measured_round(
                        client, users, done, "sendMessage", "Question", figures.done_ms, args.spread
                    )
                    figures.replies += replies
                    figures.round_seconds.append(seconds)
            violations = await client.violations()
            if violations:
                print(f"  run {run}: {len(violations)} Bot API violation(s)!", flush=True)
            return figures
        finally:
            await client.close()
    finally:
        for proc in reversed(procs):
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        if args.keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


async def _healthy(client: SandboxClient) -> bool:
    try:
        await client.counts()
    except Exception:  # noqa: BLE001 - not listening yet
        return False
    return True


async def _prompt(client: SandboxClient, user: int) -> str:
    for message in reversed(await client.bot_messages(user)):
        for button in message["buttons"]:
            action, _, arg = str(button.get("callback_data", "")).partition(":")
            if action == "pause" and arg:
                return arg
    raise RuntimeError("no prompt on screen")


def print_table(rows: list[dict[str, float]], title: str) -> None:
    keys = [
        "text_p50",
        "text_p95",
        "text_p99",
        "text_max",
        "done_p50",
        "done_p95",
        "done_p99",
        "throughput",
    ]
    print(f"\n{title}")
    print("  " + "  ".join(f"{k:>10}" for k in keys))
    for row in rows:
        print("  " + "  ".join(f"{row.get(k, float('nan')):10.1f}" for k in keys))


async def main_async(args: argparse.Namespace) -> None:
    shape = f"spread over {args.spread:g}s" if args.spread else "all at the same instant"
    print(
        f"{args.participants} participants ({shape}), {args.rounds} text rounds "
        f"(Done after the first {FREE_PROMPTS - 1}), {args.repeat} run(s); "
        f"milliseconds, throughput in replies/s",
        flush=True,
    )
    rows = []
    for run in range(1, args.repeat + 1):
        rows.append((await one_run(args, run)).summary())
        print_table(rows[-1:], f"run {run}")
    median = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print_table([median], f"median over {len(rows)} run(s)")
    verdict = "meets" if median["text_p95"] < 200 else "MISSES"
    print(f"\ntext answer p95 {median['text_p95']:.0f} ms: {verdict} the 200 ms target")
    if args.json:
        print(json.dumps({"runs": rows, "median": median}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=6, help="text answers per participant")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="seconds over which each round's messages arrive (0: all at once, "
        "the worst case; e.g. 10: people answering at their own pace)",
    )
    parser.add_argument("--log-level", default="WARNING", help="the bot's CASEVOICE_LOG_LEVEL")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and bot log")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
