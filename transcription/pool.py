"""Whisper in worker processes, so the bot's event loop never waits for it.

Each worker is a separate process that loads the model once and then transcribes one note at a
time. Audio travels over a pipe in memory (never a temp file) and segments stream back as they
are decoded, for progressive display. A worker that crashes, or overruns its time budget (a
decoder hang, Whisper's temperature-fallback spiral), is killed and replaced; the caller gets a
typed error and the job is retried or reported, never the bot taken down.

With int8 a second thread per note gains nothing on 2 cores, so the default is two one-thread
workers (see BRIEF.md figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from transcription import errors as E
from transcription.engine import TimeBudget
from transcription.transcript import Transcript

log = logging.getLogger(__name__)

SegmentText = Callable[[str], None]
WORKER_NICENESS = 10
_ERRORS: dict[str, type[E.TranscriptionError]] = {
    cls.__name__: cls
    for cls in (
        E.NotAudioError,
        E.CorruptAudioError,
        E.EmptyAudioError,
        E.AudioTooLongError,
        E.AudioTooLargeError,
        E.SilenceError,
        E.TranscriptionTimeout,
        E.TranscriptionFailed,
        E.ModelError,
        E.ModelChecksumError,
    )
}


@dataclass(frozen=True)
class PoolConfig:
    model: str = "base"
    data_dir: Path = Path("./casevoice-data")
    workers: int = 2
    threads: int = 1
    beam_size: int = 5
    max_seconds: float = 600.0
    budget: TimeBudget = TimeBudget()
    start_timeout: float = 300.0


def _exit_with_parent(parent: int) -> None:  # pragma: no cover - subprocess
    """A parent killed with SIGKILL closes no pipe the worker is reading while it transcribes:
    without this, an orphaned worker would finish (minutes of CPU) a note nobody will store."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _worker_main(conn: Connection, config: PoolConfig) -> None:  # pragma: no cover - subprocess
    """The worker process: load the model, then serve jobs until the pipe closes."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Whisper may take every core; the bot's event loop (text replies) must still get its turn.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="casevoice-parent-watch"
    ).start()
    from transcription.engine import WhisperTranscriber, transcribe_bytes
    from transcription.models import resolve_model

    try:
        info = resolve_model(config.model, config.data_dir)
        transcriber = WhisperTranscriber(
            info, cpu_threads=config.threads, beam_size=config.beam_size, budget=config.budget
        )
    except Exception as exc:  # noqa: BLE001 - reported to the parent, by type only
        conn.send(("fatal", type(exc).__name__, ""))
        return
    conn.send(("ready", transcriber.model_id, info.sha256))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        _kind, data, language = message
        try:
            transcript = transcribe_bytes(
                transcriber,
                data,
                language=language,
                max_seconds=config.max_seconds,
                on_segment=lambda segment: conn.send(("segment", segment.text, "")),
            )
        except E.TranscriptionError as exc:
            conn.send(("error", type(exc).__name__, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - contained; the parent decides
            conn.send(("error", "TranscriptionFailed", type(exc).__name__))
            continue
        conn.send(("done", transcript, ""))


class _Worker:
    def __init__(self, context: Any, config: PoolConfig) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child, config), daemon=True, name="casevoice-whisper"
        )
        self.process.start()
        child.close()
        self.model_id = ""
        self.model_sha256 = ""

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            raise E.ModelError("a transcription worker did not start in time")
        kind, a, b = self.conn.recv()
        if kind != "ready":
            raise E.ModelError(f"a transcription worker could not load the model ({a})")
        self.model_id, self.model_sha256 = a, b

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()


class WorkerPool:
    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self._context = mp.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: list[_Worker] = []

    @property
    def size(self) -> int:
        return self.config.workers

    async def start(self) -> None:
        """Prepare the model once (joining parts, checking its hash), then start the workers."""
        from transcription.models import resolve_model

        await asyncio.to_thread(resolve_model, self.config.model, self.config.data_dir)
        for _ in range(self.config.workers):
            await self._add()

    async def _add(self) -> None:
        worker = _Worker(self._context, self.config)
        self._all.append(worker)
        try:
            await asyncio.to_thread(worker.wait_ready, self.config.start_timeout)
        except BaseException:
            self._discard(worker)
            raise
        self._idle.put_nowait(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        if worker in self._all:
            self._all.remove(worker)

    async def transcribe(
        self,
        data: bytes,
        *,
        duration: float | None = None,
        language: str | None = None,
        on_segment: SegmentText | None = None,
    ) -> Transcript:
        """Transcribe one note in a worker; typed errors only. Bounded by the time budget."""
        worker = await self._idle.get()
        budget = self.config.budget.seconds_for(duration or self.config.max_seconds / 4)
        loop = asyncio.get_running_loop()

        def relay(text: str) -> None:
            if on_segment is not None:
                loop.call_soon_threadsafe(on_segment, text)

        healthy = False
        try:
            worker.conn.send(("job", data, language))
            result = await asyncio.to_thread(
                self._receive, worker, time.monotonic() + budget, relay, self.config.max_seconds
            )
            healthy = True
            return result
        except E.TranscriptionError as exc:
            healthy = not isinstance(exc, E.TranscriptionTimeout | E.TranscriptionFailed)
            raise
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise E.TranscriptionFailed(f"worker died ({type(exc).__name__})") from None
        finally:
            if healthy:
                self._idle.put_nowait(worker)
            else:
                self._discard(worker)
                asyncio.get_running_loop().create_task(self._replace())

    @staticmethod
    def _receive(
        worker: _Worker, deadline: float, relay: SegmentText, max_seconds: float
    ) -> Transcript:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not worker.conn.poll(remaining):
                raise E.TranscriptionTimeout("over its time budget")
            kind, value, detail = worker.conn.recv()
            if kind == "segment":
                relay(str(value))
            elif kind == "done":
                assert isinstance(value, Transcript)  # noqa: S101 - our own worker's reply
                return value
            else:
                cls = _ERRORS.get(str(value), E.TranscriptionFailed)
                if cls is E.AudioTooLongError:
                    # The message names the limit ("up to about 10 minutes"): give it the real one.
                    raise E.AudioTooLongError(max_seconds)
                raise cls(str(detail))

    async def _replace(self) -> None:
        try:
            await self._add()
        except E.TranscriptionError as exc:
            log.error("could not replace a transcription worker: %s", type(exc).__name__)

    async def close(self) -> None:
        for worker in list(self._all):
            self._discard(worker)
