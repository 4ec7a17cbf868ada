"""``casevoice rehearse``: the whole bot on this machine, in a browser, with no Telegram account.

One command starts the local Bot API sandbox (in this process), the real bot against it
(``casevoice run`` as a child process), a throwaway rehearsal case, and the sandbox's chat page
at ``/rehearse/``. Each browser tab asks ``POST /rehearse/api/new-person`` (served here, because
invites need the bot's keys and database; the sandbox only knows the URL) for a made-up Telegram
user and a fresh single-use invite, so every tab is a different person.

Rehearsal data never mixes with real cases: it lives in ``<data dir>/rehearsal/`` with its own
key file, signing key, SQLite database and evidence folder, and is wiped when the next rehearsal
starts (only the assembled Whisper model is kept). ``--case REF`` copies a real case's scripts and
settings into the rehearsal case, never its participants. The rehearsal case is sealed to a
reviewer key made for it whose private half is never written down: rehearsal statements are
sealed exactly as real ones, and nobody can open them.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli_support import fail, listen_failure, settings_or_fail
from bot.settings import Settings, load_settings
from storage.db import sqlite_url
from storage.errors import CaseVoiceError

if TYPE_CHECKING:
    from aiohttp import web

    from bot.container import Container
    from interview.services.cases import CaseScriptInput

REHEARSAL_DIR = "rehearsal"
LOCK = ".lock"  # held while a rehearsal runs: a second one must not wipe the first's data
KEEP = frozenset({"models", LOCK})  # the Whisper model is joined once; the rest is throwaway
CASE_REF = "REHEARSAL"
# Any token shape will do for the sandbox; this one names itself, never a real bot.
TOKEN = "100000001:REHEARSAL-sandbox-not-a-real-token"  # noqa: S105 - not a secret
DEFAULT_PORT = 8088
PERSON_PATH = "/rehearse/api/new-person"
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
# Made-up Telegram user ids for rehearsal people (real ones are below 2**52; any will do).
FIRST_USER_ID = 7_100_000_000


class RehearsalError(CaseVoiceError):
    """The rehearsal could not start, or its bot stopped."""


@dataclass
class Plan:
    """What to rehearse: a real case's script and settings, script files, or the shipped ones."""

    case_ref: str | None = None
    scripts: list[CaseScriptInput] = field(default_factory=list)
    port: int = DEFAULT_PORT
    whisper_model: str | None = None


def rehearsal_settings(base: Settings, root: Path, whisper_model: str | None) -> Settings:
    """Settings confined to `root`: own keys, own SQLite, own evidence; a sandbox token."""
    from sandbox.state import DEFAULT_BOT_USERNAME

    return load_settings(
        data_dir=root, database_url=sqlite_url(root / "casevoice.db"), key_file=root / "keys.json",
        signing_key_file=root / "signing-key.pem", evidence_store=root / "evidence",
        kek=None, kek_previous=None, hmac_key=None,
        bot_token=TOKEN, bot_username=DEFAULT_BOT_USERNAME,
        whisper_model=whisper_model or base.whisper_model,
        whisper_threads=base.whisper_threads,
        # Rehearsal shows voice working: transcribe in the bot even where production scales out.
        transcription_workers=max(1, base.transcription_workers),
        max_voice_seconds=base.max_voice_seconds, log_level=base.log_level,
    )  # fmt: skip


def child_env(settings: Settings, api_url: str) -> dict[str, str]:
    """The bot's environment: none of the operator's CASEVOICE_* settings, only the rehearsal's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVOICE_")}
    values: dict[str, object] = {
        "DATA_DIR": settings.data_dir, "DATABASE_URL": settings.db_url,
        "KEY_FILE": settings.key_path, "SIGNING_KEY_FILE": settings.signing_key_path,
        "EVIDENCE_STORE": settings.evidence_path, "BOT_USERNAME": settings.bot_username,
        "BOT_TOKEN": TOKEN, "TELEGRAM_API": api_url,
        "WHISPER_MODEL": settings.whisper_model, "WHISPER_THREADS": settings.whisper_threads,
        "TRANSCRIPTION_WORKERS": settings.transcription_workers,
        "MAX_VOICE_SECONDS": settings.max_voice_seconds, "LOG_LEVEL": settings.log_level,
    }  # fmt: skip
    env.update({f"CASEVOICE_{k}": str(v) for k, v in values.items() if v is not None})
    return env


@contextlib.contextmanager
def rehearsal_lock(root: Path) -> Iterator[None]:
    """One rehearsal per data dir at a time (the lock goes with the process, even on a crash)."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)
    with (root / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RehearsalError(
                f"another rehearsal is running with {root.parent} (stop it first, or set "
                "CASEVOICE_DATA_DIR to another folder)"
            ) from None
        yield


def fresh_root(root: Path) -> None:
    """Empty the rehearsal folder, keeping only the assembled Whisper model (and the lock)."""
    for entry in root.iterdir():
        if entry.name in KEEP:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


async def open_rehearsal_case(settings: Settings, plan: Plan, base: Settings) -> Container:
    """Keys and database in the rehearsal folder, and the throwaway case in them."""
    from bot.container import Container
    from storage.evidence.keys import generate_identity, generate_signing_key
    from storage.keyfile import FileKeyProvider

    scripts, copied = list(plan.scripts), None
    if plan.case_ref is not None:
        async with await Container.open(base) as real:
            copied = await real.cases.blueprint(plan.case_ref)
        scripts = list(copied.scripts)
    FileKeyProvider.create(settings.key_path)
    generate_signing_key(settings.signing_key_path)
    settings.evidence_path.mkdir(mode=0o700, exist_ok=True)
    _, recipient = generate_identity()  # the private half is dropped: nobody reads rehearsals
    container = await Container.open(settings)
    try:
        await container.cases.create(
            CASE_REF, [recipient], scripts=scripts, actor="rehearse",
            deadline=copied.deadline if copied else None,
            withdraw_until=copied.withdraw_until if copied else None,
            delete_answers_from_chat=copied.delete_answers_from_chat if copied else False,
            include_audio=copied.include_audio if copied else False,
        )  # fmt: skip
    except BaseException:
        await container.aclose()
        raise
    return container


class PersonDesk:
    """``POST /rehearse/api/new-person``: a made-up Telegram user and a fresh invite."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.count = 0
        self.used: set[int] = set()

    async def new_person(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        from interview.services.cases import ROLES

        body = await request.json() if request.can_read_body else {}
        role = body.get("role", "family") if isinstance(body, dict) else "family"
        if role not in ROLES:
            return web.json_response({"error": "role must be family or professional"}, status=400)
        try:
            created = await self.container.invites.create(
                CASE_REF, role, expires_days=1, actor="rehearse"
            )
        except CaseVoiceError as exc:
            return web.json_response({"error": exc.user_message}, status=409)
        self.count += 1
        user_id = FIRST_USER_ID + secrets.randbelow(10**8)
        while user_id in self.used:
            user_id = FIRST_USER_ID + secrets.randbelow(10**8)
        self.used.add(user_id)
        return web.json_response(
            {
                "user_id": user_id,
                "first_name": f"Rehearsal {self.count}",
                "role": role,
                "code": created.code,
                "participant": created.pseudonym,
            }
        )


class BotChild:
    """``casevoice run`` against the sandbox, its output in the rehearsal folder's bot.log."""

    def __init__(self, env: dict[str, str], root: Path) -> None:
        self.env = env
        self.root = root
        self.log_path = root / "bot.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            # cwd is the rehearsal folder: an operator's .env must not reach the rehearsal bot.
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                env=self.env,
                cwd=self.root,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def wait_ready(self, polls: Callable[[], int], stop: asyncio.Event) -> None:
        """Until the bot's first getUpdates (`polls()` counts them), it exits, or Ctrl-C."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while polls() == 0 and not stop.is_set():
            if self.proc is None or self.proc.returncode is not None:
                raise RehearsalError(self.describe_exit())
            if loop.time() > deadline:
                raise RehearsalError(
                    f"the bot did not start within {READY_TIMEOUT:.0f}s (its log: {self.log_path})"
                )
            await asyncio.sleep(0.1)

    def describe_exit(self) -> str:
        code = None if self.proc is None else self.proc.returncode
        return f"the rehearsal bot stopped (exit {code}); its log: {self.log_path}"

    async def stop(self, release_polls: Callable[[], None]) -> None:
        """SIGTERM (the bot finishes what it is doing), SIGKILL if it hangs.

        `release_polls` answers the bot's waiting getUpdates at once: otherwise it would notice
        the signal only when its long poll ends, up to 25 seconds later.
        """
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        release_polls()
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def run_rehearsal(base: Settings, plan: Plan, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` (set by SIGINT or SIGTERM); raise RehearsalError if the bot stops."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    base.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    root = base.data_dir.resolve() / REHEARSAL_DIR
    with rehearsal_lock(root):
        fresh_root(root)
        await _rehearse(base, plan, root, stop)


async def _rehearse(base: Settings, plan: Plan, root: Path, stop: asyncio.Event) -> None:
    from sandbox.server import create_app, start_sandbox
    from sandbox.state import DEFAULT_BOT_USERNAME
    from sandbox.web import PERSON_URL_KEY

    settings = rehearsal_settings(base, root, plan.whisper_model)
    container = await open_rehearsal_case(settings, plan, base)
    try:
        app = create_app(bot_username=DEFAULT_BOT_USERNAME)
        app[PERSON_URL_KEY] = PERSON_PATH
        app.router.add_post(PERSON_PATH, PersonDesk(container).new_person)
        try:
            sandbox = await start_sandbox("127.0.0.1", plan.port, app)
        except OSError as exc:
            raise RehearsalError(listen_failure("127.0.0.1", plan.port, exc)) from None
        child = BotChild(child_env(settings, sandbox.url), root)
        try:
            await child.start()
            await child.wait_ready(lambda: sandbox.state.counts.get("getUpdates", 0), stop)
            if stop.is_set():
                return
            typer.echo(
                f"Rehearsal mode: open {sandbox.url}/rehearse/ in a browser (Ctrl-C stops it)"
            )
            waits = [asyncio.create_task(stop.wait()), asyncio.create_task(_exited(child))]
            _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            if not stop.is_set():
                raise RehearsalError(child.describe_exit())
        finally:
            await child.stop(sandbox.state.close)
            await sandbox.close()
    finally:
        await container.aclose()


async def _exited(child: BotChild) -> None:
    if child.proc is not None:
        await child.proc.wait()


def rehearse(
    case: Annotated[
        str | None,
        typer.Option(
            "--case", help="Rehearse this case's own script and settings (never its people)"
        ),
    ] = None,
    script: Annotated[
        list[str] | None,
        typer.Option(
            help="Rehearse a script file before making a case: family=FILE or professional=FILE"
        ),
    ] = None,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)")
    ] = DEFAULT_PORT,
    whisper_model: Annotated[
        str | None,
        typer.Option(
            "--whisper-model", help="tiny.en (faster) or base (default: CASEVOICE_WHISPER_MODEL)"
        ),
    ] = None,
) -> None:
    """Try the whole bot in a browser on this machine: no Telegram account, no real case data."""
    from bot.cli_cases import _scripts
    from bot.cli_support import run

    if case is not None and script:
        fail("use either --case or --script, not both")
    if (
        whisper_model is not None
        and whisper_model not in ("base", "tiny.en")
        and not Path(whisper_model).expanduser().is_dir()
    ):
        fail(f"--whisper-model: {whisper_model!r} is not tiny.en, base or a model folder")
    base = settings_or_fail()
    plan = Plan(
        case_ref=case, scripts=_scripts(script or []), port=port, whisper_model=whisper_model
    )
    run(lambda: run_rehearsal(base, plan))  # one `error:` line for anything that goes wrong
