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
    """One worker process and its pipe. Every method blocks: the pool calls them in a thread."""

    def __init__(self, context: Any, config: PoolConfig) -> None:
        self.conn, self._child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(self._child, config), daemon=True, name="casevoice-whisper"
        )
        self.model_id = ""
        self.model_sha256 = ""

    def start(self, timeout: float) -> None:
        """Start the process and wait until its model is loaded."""
        self.process.start()
        self._child.close()
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
        with contextlib.suppress(Exception):
            self._child.close()


class WorkerPool:
    """Whisper worker processes. Starting, stopping and talking to a process all block, so each
    happens in a thread: the event loop never waits for a process (``join``) or a pipe."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self._context = mp.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: list[_Worker] = []
        self._replacing: set[asyncio.Task[None]] = set()
        self._closed = False

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
        # Known to the pool before its process starts, so close() can always stop it.
        worker = _Worker(self._context, self.config)
        self._all.append(worker)
        try:
            await asyncio.to_thread(worker.start, self.config.start_timeout)
        except BaseException:
            await self._discard(worker)
            raise
        self._idle.put_nowait(worker)

    async def _discard(self, worker: _Worker) -> None:
        if worker in self._all:
            self._all.remove(worker)
        await asyncio.to_thread(worker.kill)

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
            result = await asyncio.to_thread(
                self._exchange,
                worker,
                ("job", data, language),
                time.monotonic() + budget,
                relay,
                self.config.max_seconds,
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
                # Killed and replaced in the background: the caller need not wait for either.
                if worker in self._all:
                    self._all.remove(worker)
                replacing = asyncio.get_running_loop().create_task(self._replace(worker))
                self._replacing.add(replacing)
                replacing.add_done_callback(self._replacing.discard)

    @staticmethod
    def _exchange(
        worker: _Worker,
        job: tuple[str, bytes, str | None],
        deadline: float,
        relay: SegmentText,
        max_seconds: float,
    ) -> Transcript:
        """In a thread: send the audio (megabytes through a pipe), then read until the result."""
        worker.conn.send(job)
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

    async def _replace(self, worker: _Worker) -> None:
        await asyncio.to_thread(worker.kill)
        if self._closed:
            return
        try:
            await self._add()
        except E.TranscriptionError as exc:
            log.error("could not replace a transcription worker: %s", type(exc).__name__)

    async def close(self) -> None:
        """Stop every worker, and any replacement under way, before returning."""
        self._closed = True
        replacing = list(self._replacing)
        for task in replacing:
            task.cancel()
        await asyncio.gather(*replacing, return_exceptions=True)
        workers, self._all = self._all, []
        await asyncio.gather(*(asyncio.to_thread(worker.kill) for worker in workers))
