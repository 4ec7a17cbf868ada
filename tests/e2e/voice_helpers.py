"""Helpers for the voice and sealing end-to-end tests, on top of `world.py` and `people.py`.

The shared `world` fixture starts the bot with no transcription workers; `with_transcription`
restarts it with an embedded Whisper pool. Speech clips come from `tests/fixtures/audio`; odd audio
(silence, noise) is made in memory. `scan` looks for plaintext on disk, `review` runs the
reviewer's CLI, and `crash_sealing` SIGKILLs a real sealing at a chosen step.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from tests.e2e.people import Message, Person
from tests.e2e.world import CASE_REF, CASEVOICE, World
from tests.fixtures import reference as fixture_reference

HEARD = "Here is what I heard"
HEARING = "Listening to your voice note"
RECEIVED = "I have your voice note"
COULD_NOT = "Sorry, I couldn't write down that voice note"
READY = "worker(s) ready"
REPO = Path(__file__).resolve().parents[2]


# -- audio --------------------------------------------------------------------------------------


def reference(name: str) -> str:
    return fixture_reference(name).strip()


def clip_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data), "r") as container:
        return float(container.duration or 0) / 1_000_000


def opus_ogg(samples: np.ndarray, rate: int = 48_000) -> bytes:
    """Mono int16 samples as a Telegram-like voice note (OGG/Opus), in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=rate, layout="mono")
        frame = 960
        for start in range(0, len(samples), frame):
            chunk = samples[start : start + frame]
            if len(chunk) < frame:
                chunk = np.pad(chunk, (0, frame - len(chunk)))
            audio = av.AudioFrame.from_ndarray(
                chunk.reshape(1, -1).astype(np.int16), format="s16", layout="mono"
            )
            audio.sample_rate = rate
            audio.pts = start
            for packet in stream.encode(audio):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def silent_ogg(seconds: float) -> bytes:
    return opus_ogg(np.zeros(int(seconds * 48_000), dtype=np.int16))


def words(text: str) -> list[str]:
    return [w.strip(".,!?;:\"'[]").lower() for w in text.split() if w.strip(".,!?;:\"'[]")]


# -- the bot with transcription -----------------------------------------------------------------


async def with_transcription(
    world: World,
    *,
    model: str = "tiny.en",
    workers: int = 1,
    timeout: float = 120.0,  # noqa: ASYNC109
    **env: str,
) -> None:
    """Restart the bot with an embedded Whisper pool and wait until its workers are ready."""
    await world.bot.kill()
    world.bot.env.update(
        CASEVOICE_TRANSCRIPTION_WORKERS=str(workers), CASEVOICE_WHISPER_MODEL=model, **env
    )
    await start_and_wait_ready(world, timeout)


async def start_and_wait_ready(world: World, timeout: float = 120.0) -> None:  # noqa: ASYNC109
    await world.bot.start()
    await wait_for_log(world, READY, timeout)


async def wait_for_log(
    world: World,
    text: str,
    timeout: float = 60.0,  # noqa: ASYNC109
    since_start: bool = True,
) -> None:
    """Wait until the bot's log (since its latest start) holds `text`."""
    marker = f"--- start {world.bot.starts} ---"
    deadline = time.monotonic() + timeout
    while True:
        log = world.bot.log_text()
        if since_start and marker in log:
            log = log.split(marker, 1)[1]
        if text in log:
            return
        if world.bot.proc is not None and world.bot.proc.returncode is not None:
            raise AssertionError(f"the bot exited while waiting for {text!r}:\n{log[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never reached the bot's log:\n{log[-3000:]}")
        await asyncio.sleep(0.1)


async def send_voice(
    person: Person,
    data: bytes,
    duration: int | None = None,
    expect: str | None = RECEIVED,
    *,
    mime_type: str = "audio/ogg",
) -> int:
    """Send a voice note; returns the high-water mark before it (to wait for what follows)."""
    after = await person.high_water()
    seconds = duration if duration is not None else max(1, round(clip_seconds(data)))
    sent = await person.client.send_voice(person.user_id, data, seconds, mime_type=mime_type)
    person.sent.append(int(sent["message_id"]))
    if expect is not None:
        await person.wait(expect, after)
    return after


async def heard(person: Person, after: int, timeout: float = 90.0) -> Message:  # noqa: ASYNC109
    """The "Here is what I heard" (or "couldn't write down") message after `after`."""

    def found(messages: list[Message]) -> Message | None:
        return next(
            (
                m
                for m in messages
                if m["message_id"] > after
                and any(
                    str(b.get("callback_data", "")).startswith(("vok:", "vre:"))
                    for b in m["buttons"]
                )
                and (HEARD in (m["text"] or "") or COULD_NOT in (m["text"] or ""))
            ),
            None,
        )

    message: Message = await person.wait_until(found, timeout=timeout)
    return message


def button(message: Message, action: str) -> str:
    """The callback data of the `action:` button on a message."""
    for b in message["buttons"]:
        data = str(b.get("callback_data", ""))
        if data.startswith(f"{action}:"):
            return data
    raise AssertionError(f"no {action} button on {message['text']!r}")


def answer_id(message: Message) -> str:
    return button(message, "vre").split(":", 1)[1]


# -- plaintext on disk --------------------------------------------------------------------------


def files_under(*roots: Path) -> list[Path]:
    out: list[Path] = []
    for root in roots:
        if root.is_file():
            out.append(root)
            continue
        for dirpath, _dirs, names in os.walk(root):
            out.extend(Path(dirpath) / name for name in names)
    return out


def scan(paths: Iterable[Path], needles: dict[str, bytes]) -> list[str]:
    """`name in path` for every needle found in any file (read whole, as bytes)."""
    hits: list[str] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue  # vanished meanwhile, or not ours to read
        hits.extend(f"{name} in {path}" for name, needle in needles.items() if needle in data)
    return hits


def text_needles(label: str, text: str) -> dict[str, bytes]:
    """A phrase as it could sit on disk: UTF-8, UTF-16 (either order), JSON-escaped."""
    return {
        f"{label} (utf-8)": text.encode(),
        f"{label} (utf-16-le)": text.encode("utf-16-le"),
        f"{label} (utf-16-be)": text.encode("utf-16-be"),
        f"{label} (json)": json.dumps(text)[1:-1].encode(),
    }


def audio_needle(data: bytes) -> dict[str, bytes]:
    """A distinctive 64-byte slice from the middle of the Opus payload."""
    middle = len(data) // 2
    return {"audio slice": data[middle : middle + 64]}


@dataclass
class TmpWatch:
    """Files under /tmp that appear or change while a test runs (other agents' too)."""

    root: Path
    since: float

    @classmethod
    def start(cls, root: Path = Path("/tmp")) -> TmpWatch:  # noqa: S108 - we watch it
        return cls(root, time.time() - 1)

    def changed(self, exclude: Iterable[Path] = ()) -> list[Path]:
        skip = [p.resolve() for p in exclude]
        out = []
        for dirpath, dirs, names in os.walk(self.root):
            here = Path(dirpath).resolve()
            if any(here == s or s in here.parents for s in skip):
                dirs[:] = []
                continue
            for name in names:
                path = Path(dirpath) / name
                try:
                    stat = path.lstat()
                except OSError:
                    continue
                if stat.st_mtime >= self.since and path.is_file() and stat.st_size < 64 << 20:
                    out.append(path)
        return out


# -- the reviewer's CLI -------------------------------------------------------------------------


def review(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`casevoice review …` as the reviewer types it (a blocking call: a few hundred ms)."""
    return subprocess.run(
        [CASEVOICE, "review", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def signer_of(data_dir: Path) -> str:
    """The bot's signer fingerprint, as `casevoice case show` hands it to the reviewer."""
    from storage.evidence import fingerprint, load_signing_key

    return fingerprint(load_signing_key(data_dir / "signing-key.pem").public_key())


def pull(
    world: World,
    identity: Path,
    out: Path,
    store: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`casevoice review pull` (plain output: its exit code says whether anything was skipped)."""
    return review(
        world.bot.env,
        "pull",
        CASE_REF,
        "--identity",
        str(identity),
        "--out",
        str(out),
        "--store",
        str(store or world.data_dir / "evidence"),
        "--trusted-signer",
        signer_of(world.data_dir),
    )


def verify(world: World, store: Path) -> subprocess.CompletedProcess[str]:
    """`casevoice review verify` against the bot's pinned signer."""
    return review(
        world.bot.env,
        "verify",
        CASE_REF,
        "--store",
        str(store),
        "--trusted-signer",
        signer_of(world.data_dir),
    )


def statement_files(out: Path) -> dict[str, dict[str, Any]]:
    """statement id → statement.json of every statement a pull wrote."""
    return {
        p.parent.name: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(out.glob("*/statement.json"))
    }


def parts_of(statement: dict[str, Any], prompt_id: str) -> list[dict[str, Any]]:
    for section in statement["sections"]:
        for item in section["items"]:
            if item["prompt_id"] == prompt_id:
                return list(item["parts"])
    raise AssertionError(f"prompt {prompt_id} is not in the statement")


# -- walking an interview to the end ------------------------------------------------------------


async def to_readback(person: Person, code: str, plan: dict[str, list[str] | str]) -> None:
    await person.consent(code)
    await person.walk(plan)
    await person.wait_until(lambda ms: ms and "Your statement is ready" in (ms[-1]["text"] or ""))


async def send_statement(
    person: Person,
    expect: str = "Receipt code:",
    timeout: float = 30.0,  # noqa: ASYNC109
) -> Message:
    after = await person.high_water()
    await person.press("send")
    return await person.wait(expect, after, timeout=timeout)


# -- a sealing killed at a chosen step ----------------------------------------------------------

CRASH_POINTS = ("sealed-object", "signature", "ledger-line", "evidence-done")

_CRASH_SCRIPT = """
import asyncio, os, signal, sys
from pathlib import Path
from bot.container import Container
from bot.settings import load_settings

data_dir, statement_id, point = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
writes = {"sealed-object": 1, "signature": 2, "ledger-line": 3}

def die():
    os.kill(os.getpid(), signal.SIGKILL)

class Dying:
    # The real store; the process is SIGKILLed right after the chosen write lands.
    def __init__(self, store):
        self.store, self.count = store, 0
    def __getattr__(self, name):
        return getattr(self.store, name)
    def _wrote(self):
        self.count += 1
        if self.count == writes.get(point):
            die()
    def put_object(self, key, data):
        existed = self.store.exists(key)
        self.store.put_object(key, data)
        if not existed:
            self._wrote()
    def append_object(self, key, data):
        self.store.append_object(key, data)
        self._wrote()

async def main():
    settings = load_settings(data_dir=data_dir)
    async with await Container.open(settings, with_evidence=True) as c:
        sealing = c.conversation.sealing
        writer = sealing.writer
        writer._store = Dying(writer._store)
        if point == "evidence-done":
            seal = writer.seal_statement
            def seal_then_die(*a, **k):
                seal(*a, **k)
                die()
            writer.seal_statement = seal_then_die
        await sealing.seal(statement_id)
    print("not killed")

asyncio.run(main())
"""


def crash_sealing(env: dict[str, str], data_dir: Path, statement_id: str, point: str) -> int:
    """Seal `statement_id` in a separate process that is SIGKILLed right after `point`."""
    assert point in CRASH_POINTS
    done = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT, str(data_dir), statement_id, point],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode
