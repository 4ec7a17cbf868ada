"""``casevoice init``, ``casevoice keys …`` and ``casevoice audit verify|anchor``."""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli_support import emit_json, err, fail, out, run, settings_or_fail, with_container
from bot.container import Container, audit_head, key_provider
from bot.settings import Settings
from storage.audit import AuditHead, AuditLog
from storage.db import create_engine, migrate, reading, session_factory, writing
from storage.errors import AuditHeadError, KeyUnavailableError
from storage.keyfile import FileKeyProvider, KeyProvider
from storage.keyring import Keyring, ShredLedger

keys_app = typer.Typer(help="Key-encryption keys: rotate, re-shred.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


async def _data_keys_in(url: str) -> int:
    """How many data keys a database already holds (0 if it has no schema yet)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def count(sync_conn: Connection) -> int:
                if not inspect(sync_conn).has_table("data_keys"):
                    return 0
                return int(sync_conn.execute(text("SELECT count(*) FROM data_keys")).scalar_one())

            return await conn.run_sync(count)
    finally:
        await engine.dispose()


def init(json_output: JsonOpt = False) -> None:
    """Create the data directory, keys and database. Safe to run again: nothing is replaced."""
    settings = settings_or_fail()

    async def body() -> dict[str, str]:
        from storage.evidence.keys import fingerprint, generate_signing_key, load_signing_key

        done: dict[str, str] = {}
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(settings.data_dir, 0o700)
        if settings.kek is not None:
            done["keys"] = "from environment (CASEVOICE_KEK)"
        elif settings.key_path.exists():
            done["keys"] = f"kept {settings.key_path}"
        else:
            # A database full of data keys without its key file means the key file was lost or
            # moved: a new one would silently split the data in two. Fail closed instead.
            if await _data_keys_in(settings.db_url):
                raise KeyUnavailableError(
                    f"key file {settings.key_path} is missing but the database already holds "
                    "data keys; restore the key file (a new one cannot read them)"
                )
            FileKeyProvider.create(settings.key_path)
            done["keys"] = f"created {settings.key_path}"
        if settings.signing_key_path.exists():
            signing_key = load_signing_key(settings.signing_key_path)
            done["signing_key"] = f"kept {settings.signing_key_path}"
        else:
            signing_key = generate_signing_key(settings.signing_key_path)
            done["signing_key"] = f"created {settings.signing_key_path}"
        settings.evidence_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        done["evidence_store"] = str(settings.evidence_path)
        key_provider(settings).hmac_key()
        await migrate(settings.db_url)
        done["database"] = "migrated to the latest schema"
        done["audit_head"] = await _anchor_fresh_audit_head(settings)
        # What the case administrator hands the reviewer with the case reference: the reviewer
        # pins it (`review pull --trusted-signer`), so a store writer cannot pose as the bot.
        done["signer"] = fingerprint(signing_key.public_key())
        return done

    done = run(body)
    if json_output:
        emit_json(done)
        return
    for name, what in done.items():
        out.print(f"{name}: {what}", markup=False)
    out.print(
        "Give the reviewer the signer fingerprint above with each case reference "
        "(`casevoice case show` prints it too).",
        markup=False,
    )
    if done["audit_head"].startswith("PROBLEM"):
        err.print(f"warning: audit head: {done['audit_head']}", markup=False)


async def _newest_audit_event(settings: Settings) -> tuple[int, str]:
    engine = create_engine(settings.db_url)
    try:
        async with reading(session_factory(engine)) as session:
            return await AuditLog.newest(session)
    finally:
        await engine.dispose()


async def _anchor_fresh_audit_head(settings: Settings) -> str:
    """A fresh installation gets a signed audit head before its first event. A missing head
    over existing events is reported, never quietly re-created: that is `audit anchor`."""
    head = audit_head(settings)
    try:
        if head.read() is not None:
            return f"kept {head.path}"
    except AuditHeadError as exc:
        return f"PROBLEM: {exc}; run `casevoice audit verify`"
    seq, digest = await _newest_audit_event(settings)
    if seq:
        return (
            f"PROBLEM: {head.path} is missing while the log holds {seq} events; run "
            "`casevoice audit verify`, then `casevoice audit anchor` if this host never kept one"
        )
    head.anchor(seq, digest)
    return f"created {head.path}"


@dataclass(frozen=True)
class Rotation:
    new_kek: str
    rewrapped: int
    retired: list[str]


async def rotate_keks(
    provider: KeyProvider,
    sessions: async_sessionmaker[AsyncSession],
    ledger: ShredLedger | None = None,
    *,
    grace: float = 2.0,
    head: AuditHead | None = None,
) -> Rotation:
    """Make a new KEK active, re-wrap every data key under it, then destroy the old KEKs.

    A running bot may have wrapped a data key under the old KEK just before the switch and
    commit it a moment later. So after a grace period a second pass re-wraps such stragglers
    while holding the database's write lock, and old KEKs are retired inside that same locked
    transaction, only if no data key still needs them: a failure at any point loses nothing.
    """
    new_id = provider.add_kek() if isinstance(provider, FileKeyProvider) else None
    keyring = Keyring(provider, ledger)
    async with writing(sessions) as session:
        rewrapped = await keyring.rewrap_all(session)
        await AuditLog(provider.hmac_key(), head).append(
            session, "cli", "keys.rotate", {"rewrapped": rewrapped}
        )
    await asyncio.sleep(grace)
    retired: list[str] = []
    async with writing(sessions) as session:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.execute(text("LOCK TABLE data_keys IN EXCLUSIVE MODE"))
        rewrapped += await keyring.rewrap_all(session)  # SQLite: BEGIN IMMEDIATE holds the lock
        in_use = await keyring.kek_ids_in_use(session)
        if isinstance(provider, FileKeyProvider):
            active, _ = provider.active_kek()
            for kek_id in provider.kek_ids():
                if kek_id != active and kek_id not in in_use:
                    provider.retire(kek_id)
                    retired.append(kek_id)
    return Rotation(new_id or provider.active_kek()[0], rewrapped, retired)


@keys_app.command("rotate")
def rotate(json_output: JsonOpt = False) -> None:
    """New KEK, every data key re-wrapped under it, old KEKs destroyed. Nothing is lost."""
    settings = settings_or_fail()

    async def body() -> Rotation:
        provider = key_provider(settings)
        provider.hmac_key()  # fail closed before touching anything
        await migrate(settings.db_url)
        engine = create_engine(settings.db_url)
        try:
            return await rotate_keks(
                provider,
                session_factory(engine),
                ShredLedger(settings.shred_ledger_path),
                head=audit_head(settings),
            )
        finally:
            await engine.dispose()

    result = run(body)
    if json_output:
        emit_json(asdict(result))
        return
    out.print(
        f"active KEK {result.new_kek}; {result.rewrapped} data keys re-wrapped; "
        f"retired {len(result.retired)} old KEK(s)",
        markup=False,
    )
    if settings.kek is not None:
        out.print("now remove CASEVOICE_KEK_PREVIOUS from the environment", markup=False)


@keys_app.command("reshred")
def reshred() -> None:
    """Re-apply the shredding ledger, e.g. after restoring a database backup."""

    async def body(container: Container) -> int:
        async with writing(container.sessions) as session:
            count = await container.keyring.reshred(session)
            await container.audit.append(session, "cli", "keys.reshred", {"count": count})
            return count

    count = with_container(body)
    out.print(f"{count} data key(s) shredded again", markup=False)


@audit_app.command("verify")
def audit_verify(json_output: JsonOpt = False) -> None:
    """Check the audit chain; name the first broken link."""

    async def body(container: Container) -> tuple[int, str | None]:
        async with reading(container.sessions) as session:
            report = await container.audit.verify(session)
        return report.events, (str(report.problem) if report.problem else None)

    events, problem = with_container(body)
    if json_output:
        emit_json({"events": events, "ok": problem is None, "problem": problem})
    elif problem is None:
        out.print(f"audit chain intact: {events} events", markup=False)
    if problem is not None:
        if not json_output:
            fail(f"audit chain broken at {problem}")
        raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Start a signed audit head where there is none (a new host sharing the database, or after
    investigating a deleted head). Recorded in the audit log itself."""
    settings = settings_or_fail()

    async def body(container: Container) -> int:
        head = audit_head(settings)
        if head.read() is not None:
            fail(f"{head.path} exists and verifies: nothing to anchor")
        async with writing(container.sessions) as session:
            seq, digest = await AuditLog.newest(session)
            event = await AuditLog(key_provider(settings).hmac_key(), None).append(
                session, "cli", "audit.anchor", {"after_seq": seq}
            )
            anchored = (event.seq, event.hash)
        head.anchor(*anchored)
        return anchored[0]

    seq = with_container(body)
    out.print(
        f"audit head started at event {seq} (events before it were not anchored)", markup=False
    )
