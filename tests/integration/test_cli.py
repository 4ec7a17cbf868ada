"""The real ``casevoice`` console script, run as a subprocess against a temporary data dir."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage.crypto import FieldCipher, FieldRef, unwrap_key
from storage.db import sqlite_url
from storage.keyfile import FileKeyProvider
from tests.e2e.world import rows_at
from tests.integration.scenario import canary, files_under, leaks

BOT = "casevoice_test_bot"
REF = "LCSPR-2026-07"
SECRET_KEY = "AGE-SECRET-KEY-1" + "Q" * 58
CONSOLE_SCRIPT = Path(sys.executable).with_name("casevoice")


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def casevoice(
    workdir: Path, *args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = ()
) -> Result:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEVOICE_")}
    environment.update(
        {
            "CASEVOICE_DATA_DIR": str(workdir / "data"),
            "CASEVOICE_BOT_USERNAME": BOT,
            "COLUMNS": "200",
        }
    )
    environment.update(env or {})
    for name in unset:
        environment.pop(name, None)
    command = (
        [str(CONSOLE_SCRIPT)] if CONSOLE_SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
    )
    done = subprocess.run(
        [*command, *args], cwd=workdir, env=environment, capture_output=True, text=True, timeout=60
    )
    return Result(done.returncode, done.stdout, done.stderr)


def ok(result: Result) -> Result:
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return result


@dataclass(frozen=True)
class State:
    """What a refused command must not change."""

    cases: list[str]
    audit_events: int
    invites: int
    data_keys: int


def db(workdir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the CLI's database (the embedded default: SQLite in the data dir)."""
    return rows_at(sqlite_url(workdir / "data" / "casevoice.db"), sql, *params)


def state(workdir: Path) -> State:
    return State(
        cases=[r[0] for r in db(workdir, "SELECT ref FROM cases ORDER BY ref")],
        audit_events=db(workdir, "SELECT count(*) FROM audit_events")[0][0],
        invites=db(workdir, "SELECT count(*) FROM invites")[0][0],
        data_keys=db(workdir, "SELECT count(*) FROM data_keys")[0][0],
    )


@dataclass(frozen=True)
class World:
    workdir: Path
    recipient: str
    title: str
    label: str
    invite: dict[str, str]
    outputs: dict[str, Result]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One reviewer's set-up, made once through the CLI; the tests below read it."""
    workdir = tmp_path_factory.mktemp("cli")
    outputs: dict[str, Result] = {}
    outputs["init"] = ok(casevoice(workdir, "init"))
    outputs["keygen"] = ok(casevoice(workdir, "review", "keygen", "--out", "reviewer.age"))
    recipient = outputs["keygen"].stdout.strip().splitlines()[-1]
    title, label = canary("title"), canary("label")
    outputs["case"] = ok(
        casevoice(
            workdir,
            "case",
            "create",
            REF,
            "--recipient",
            recipient,
            "--title",
            title,
            "--deadline",
            "2026-12-31",
        )
    )
    outputs["invite"] = ok(
        casevoice(
            workdir,
            "invite",
            "create",
            REF,
            "--role",
            "family",
            "--label",
            label,
            "--json",
            "--qr",
            "invite.png",
        )
    )
    return World(workdir, recipient, title, label, json.loads(outputs["invite"].stdout), outputs)


def test_given_init_then_data_dir_keys_signing_key_and_database_exist(world: World) -> None:
    data = world.workdir / "data"

    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "keys.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "signing-key.pem").stat().st_mode) & 0o077 == 0
    assert (data / "casevoice.db").exists()
    assert (data / "evidence").is_dir()
    assert FileKeyProvider(data / "keys.json").hmac_key()


def test_given_init_run_again_then_nothing_changes(world: World) -> None:
    data = world.workdir / "data"
    keys, signing = (data / "keys.json").read_bytes(), (data / "signing-key.pem").read_bytes()
    before = state(world.workdir)

    again = ok(casevoice(world.workdir, "init"))

    assert (data / "keys.json").read_bytes() == keys
    assert (data / "signing-key.pem").read_bytes() == signing
    assert state(world.workdir) == before
    assert "kept" in again.stdout and "created" not in again.stdout


def test_given_keygen_then_an_age_identity_file_and_the_recipient_last(world: World) -> None:
    identity = world.workdir / "reviewer.age"

    assert re.fullmatch(r"age1[0-9a-z]{58}", world.recipient)
    assert stat.S_IMODE(identity.stat().st_mode) == 0o600
    text = identity.read_text()
    assert re.search(r"^AGE-SECRET-KEY-1[0-9A-Z]{58}$", text, re.MULTILINE)
    assert f"# public key: {world.recipient}" in text
    assert "AGE-SECRET-KEY" not in world.outputs["keygen"].stdout


def test_given_a_case_then_list_and_show_report_it_without_content(world: World) -> None:
    listed = json.loads(ok(casevoice(world.workdir, "case", "list", "--json")).stdout)
    shown = ok(casevoice(world.workdir, "case", "show", REF, "--json"))
    summary = json.loads(shown.stdout)

    assert [(c["ref"], c["participants"], c["deadline"]) for c in listed] == [
        (REF, 1, "2026-12-31")
    ]
    assert summary["ref"] == REF and summary["recipients"] == [world.recipient]
    assert [(p["pseudonym"], p["role"], p["status"]) for p in summary["participants"]] == [
        ("F-01", "family", "invited")
    ]
    for output in (shown.stdout, json.dumps(listed)):
        assert world.title not in output and world.label not in output
    plain = ok(casevoice(world.workdir, "case", "show", REF))
    assert "F-01" in plain.stdout and world.label not in plain.stdout


def test_given_an_invite_then_json_link_code_and_qr_png(world: World) -> None:
    code = world.invite["code"]

    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", code)
    assert world.invite["link"] == f"https://t.me/{BOT}?start={code}"
    assert world.invite["case"] == REF and world.invite["role"] == "family"
    png = (world.workdir / "invite.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 200
    # The QR code carries the invite code: for its owner's eyes only.
    assert stat.S_IMODE((world.workdir / "invite.png").stat().st_mode) == 0o600
    # Only a keyed hash of the code is stored.
    hashes = [r[0] for r in db(world.workdir, "SELECT code_hash FROM invites")]
    assert len(hashes) == 1 and code not in hashes[0]
    assert code.encode() not in (world.workdir / "data" / "casevoice.db").read_bytes()


def test_given_the_cli_stored_a_title_and_label_then_no_file_in_the_data_dir_holds_them(
    world: World,
) -> None:
    files = files_under(world.workdir / "data")

    assert world.workdir / "data" / "casevoice.db" in files
    for path, blob in files.items():
        for secret in (world.title, world.label, world.invite["code"]):
            assert not leaks(blob, secret), f"{secret} readable in {path}"


def test_given_an_invite_without_json_then_the_link_is_printed(world: World) -> None:
    before = state(world.workdir)
    result = ok(casevoice(world.workdir, "invite", "create", REF, "--role", "professional"))

    link = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(rf"https://t\.me/{BOT}\?start=[A-Za-z0-9_-]{{32}}", link)
    assert state(world.workdir).invites == before.invites + 1


def test_given_the_commands_then_audit_verify_counts_their_events(world: World) -> None:
    events = state(world.workdir).audit_events

    result = ok(casevoice(world.workdir, "audit", "verify"))

    assert events >= 2  # case.create, invite.create
    assert f"{events} events" in result.stdout
    as_json = json.loads(ok(casevoice(world.workdir, "audit", "verify", "--json")).stdout)
    assert as_json == {"events": events, "ok": True, "problem": None}


def _refused(result: Result) -> str:
    assert result.code != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.lines) == 1, result.stderr
    assert result.lines[0].startswith("error: "), result.stderr
    return result.lines[0]


BAD_INPUTS = {
    "unknown case (show)": (["case", "show", "NO-SUCH-CASE"], {}, "NO-SUCH-CASE"),
    "unknown case (invite)": (
        ["invite", "create", "NO-SUCH-CASE", "--role", "family"],
        {},
        "NO-SUCH-CASE",
    ),
    "bad recipient": (["case", "create", "NEW-1", "--recipient", "notakey"], {}, "recipient"),
    "secret key as recipient": (
        ["case", "create", "NEW-1", "--recipient", SECRET_KEY],
        {},
        "recipient",
    ),
    "bad date": (
        ["case", "create", "NEW-1", "--recipient", "{recipient}", "--deadline", "2026-13-45"],
        {},
        "--deadline",
    ),
    "bad role": (["invite", "create", REF, "--role", "cousin"], {}, "--role"),
    "bad expiry": (["invite", "create", REF, "--role", "family", "--expires", "0"], {}, "expires"),
    "duplicate case": (["case", "create", REF, "--recipient", "{recipient}"], {}, REF),
    "bad case ref": (
        ["case", "create", "bad ref!", "--recipient", "{recipient}"],
        {},
        "case reference",
    ),
    "secret in bot username": (
        ["invite", "create", REF, "--role", "family"],
        {"CASEVOICE_BOT_USERNAME": SECRET_KEY},
        "CASEVOICE_BOT_USERNAME",
    ),
    "secret in another setting": (
        ["case", "create", "NEW-1", "--recipient", "{recipient}"],
        {"CASEVOICE_WHISPER_MODEL": SECRET_KEY},
        "CASEVOICE_WHISPER_MODEL",
    ),
    "bad log level": (["case", "list"], {"CASEVOICE_LOG_LEVEL": "LOUD"}, "CASEVOICE_LOG_LEVEL"),
    "bad telegram api": (
        ["case", "list"],
        {"CASEVOICE_TELEGRAM_API": "ftp://x"},
        "CASEVOICE_TELEGRAM_API",
    ),
    "bad database url": (
        ["case", "create", "NEW-1", "--recipient", "{recipient}"],
        {"CASEVOICE_DATABASE_URL": "mysql://localhost/x"},
        "CASEVOICE_DATABASE_URL",
    ),
    "bad number": (
        ["case", "list"],
        {"CASEVOICE_WHISPER_THREADS": "many"},
        "CASEVOICE_WHISPER_THREADS",
    ),
    "database unreachable": (
        ["case", "create", "NEW-1", "--recipient", "{recipient}"],
        {"CASEVOICE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"},
        "CASEVOICE_DATABASE_URL",
    ),
    "missing option": (["invite", "create", REF], {}, "--role"),
    "not a number": (
        ["invite", "create", REF, "--role", "family", "--expires", "soon"],
        {},
        "--expires",
    ),
    "unknown command": (["case", "delete-everything"], {}, "delete-everything"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_given_bad_input_then_one_error_line_nonzero_exit_and_nothing_changed(
    world: World, name: str
) -> None:
    args, env, mentions = BAD_INPUTS[name]
    args = [a.replace("{recipient}", world.recipient) for a in args]
    before = state(world.workdir)

    line = _refused(casevoice(world.workdir, *args, env=env))

    assert mentions in line
    assert SECRET_KEY not in line
    assert state(world.workdir) == before


def test_given_no_bot_username_and_no_token_then_one_clear_line_and_no_invite(
    world: World,
) -> None:
    before = state(world.workdir)

    line = _refused(
        casevoice(
            world.workdir,
            "invite",
            "create",
            REF,
            "--role",
            "family",
            unset=("CASEVOICE_BOT_USERNAME",),
        )
    )

    assert "CASEVOICE_BOT_USERNAME" in line and "CASEVOICE_BOT_TOKEN" in line
    assert state(world.workdir) == before


@pytest.fixture
def fresh(tmp_path: Path, world: World) -> Iterator[Path]:
    """A private copy of the reviewer's set-up, for tests that change or break it."""
    shutil.copytree(world.workdir / "data", tmp_path / "data")
    yield tmp_path


def test_given_the_key_file_deleted_then_commands_fail_closed_and_store_nothing(
    fresh: Path, world: World
) -> None:
    (fresh / "data" / "keys.json").unlink()
    before = state(fresh)

    for args in (
        ["case", "create", "NEW-2", "--recipient", world.recipient, "--title", "x"],
        ["invite", "create", REF, "--role", "family", "--label", "y"],
        ["case", "show", REF],
        ["keys", "rotate"],
        ["audit", "verify"],
    ):
        line = _refused(casevoice(fresh, *args))
        assert "key file" in line, line
    # init does not paper over the loss with a new key file that cannot read the data.
    line = _refused(casevoice(fresh, "init"))
    assert "key file" in line

    assert not (fresh / "data" / "keys.json").exists()
    assert state(fresh) == before


def test_given_keys_rotate_then_the_old_kek_is_gone_and_everything_still_decrypts(
    fresh: Path, world: World
) -> None:
    key_path = fresh / "data" / "keys.json"
    old_id = FileKeyProvider(key_path).active_kek()[0]
    data_keys = state(fresh).data_keys

    rotated = json.loads(ok(casevoice(fresh, "keys", "rotate", "--json")).stdout)

    assert rotated["retired"] == [old_id] and rotated["rewrapped"] == data_keys >= 2
    provider = FileKeyProvider(key_path)
    assert provider.kek_ids() == [rotated["new_kek"]]
    ((case_id, dek_id, title_ct),) = db(
        fresh, "SELECT id, dek_id, title_ct FROM cases WHERE ref = ?", REF
    )
    kek_ids = {r[0] for r in db(fresh, "SELECT kek_id FROM data_keys")}
    ((wrapped,),) = db(fresh, "SELECT wrapped FROM data_keys WHERE id = ?", dek_id)
    assert kek_ids == {rotated["new_kek"]}
    key = unwrap_key(rotated["new_kek"], provider.kek(rotated["new_kek"]), dek_id, wrapped)
    assert (
        FieldCipher.decrypt_text(key, title_ct, FieldRef("cases", case_id, "title")) == world.title
    )
    ok(casevoice(fresh, "audit", "verify"))
    assert ok(casevoice(fresh, "case", "show", REF, "--json"))
