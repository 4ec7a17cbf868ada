"""Sealed statements end to end: the real bot seals, the reviewer's CLI and `age` open.

Interviews are finished in the sandbox; the evidence store is then read (and, on copies,
tampered with) exactly as the reviewer would: `casevoice review verify|pull` and `/usr/bin/age`.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.people import Person
from tests.e2e.voice_helpers import (
    CRASH_POINTS,
    answer_id,
    audio_needle,
    crash_sealing,
    files_under,
    heard,
    parts_of,
    pull,
    review,
    scan,
    send_statement,
    send_voice,
    statement_files,
    text_needles,
    verify,
    wait_for_log,
    with_transcription,
    words,
)
from tests.e2e.world import CASE_REF, World
from tests.fixtures import clip

pytestmark = pytest.mark.slow

AGE = shutil.which("age") or "/usr/bin/age"


async def finish(
    world: World, person: Person, code: str, *answers: str, expect: str = "Receipt code:"
) -> str:
    """Enrol, answer the first question, skip the rest, send; returns the statement id."""
    await person.consent(code)
    await person.answer(*answers)
    await person.walk({})
    await send_statement(person, expect)
    interview_id, _ = world.interview_of(person.user_id)
    return str(world.scalar("SELECT id FROM statements WHERE interview_id = ?", interview_id))


def receipt_in(text: str) -> str:
    return text.split("Receipt code:", 1)[1].split()[0]


def index_of(out: Path) -> dict[str, Any]:
    found = sorted(out.glob("index*.json"))
    assert found, f"no index in {out}: {sorted(p.name for p in out.iterdir())}"
    data: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))
    return data


def rows_of(index: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["statement_id"]: row for row in index["statements"]}


def exported(out: Path) -> set[str]:
    return {p.parent.name for p in out.glob("*/statement.json")}


async def test_a_finished_interview_is_sealed_and_the_reviewer_pulls_what_was_confirmed(
    world: World, tmp_path: Path
) -> None:
    # Given a family member who types two answers and confirms a voice answer
    await with_transcription(world)
    sister = Person(world.client, world.user(777002001))
    await sister.consent(world.invites.family[0])
    typed = [world.canary("I am her older sister"), world.canary("we shared a room")]
    assert await sister.answer(*typed) == "relationship"
    assert await sister.current_prompt() == "child_name"
    note = clip("tts_s1")
    after = await send_voice(sister, note)
    message = await heard(sister, after)
    said = message["text"].split("\n\n")[1].strip()
    await sister.press(f"vok:{answer_id(message)}", expect="Saved")
    await sister.press("done:child_name")
    await sister.wait_for_next("child_name")
    await sister.walk({})
    interview_id, _ = world.interview_of(sister.user_id)
    consents = world.rows("SELECT * FROM consent_records WHERE interview_id = ?", interview_id)

    # When they send it to the reviewer
    receipt = receipt_in((await send_statement(sister))["text"])

    # Then one sealed statement, its receipt code the one the person was given
    statement_id, state, code = world.rows(
        "SELECT id, state, receipt_code FROM statements WHERE interview_id = ?", interview_id
    )[0]
    assert (state, code) == ("sealed", receipt)
    after_sealing = world.rows("SELECT * FROM consent_records WHERE interview_id = ?", interview_id)
    assert set(consents) < set(after_sealing), "a consent record was lost or changed"
    assert [r[2] for r in set(after_sealing) - set(consents)] == ["submission"]
    await sister.command("receipt", expect=receipt)

    # The reviewer's pull yields the answers and the transcript the person confirmed
    out = tmp_path / "pulled"
    done = pull(world, world.identity, out)
    assert done.returncode == 0, done.stderr
    statement = statement_files(out)[statement_id]
    assert [p["text"] for p in parts_of(statement, "relationship")] == typed
    (voice,) = parts_of(statement, "child_name")
    assert voice["kind"] == "voice" and words(voice["text"]) == words(said)
    assert [(v["source"], v["author"]) for v in voice["versions"]] == [
        ("transcript", "transcriber")
    ]
    assert voice["versions"][0]["model_id"].startswith("whisper-tiny.en")
    assert statement["consent"]["take_part"] is True
    row = rows_of(index_of(out))[statement_id]
    assert (row["status"], row["receipt_code"]) == ("exported", receipt)
    markdown = (out / statement_id / "statement.md").read_text(encoding="utf-8")
    assert typed[0] in markdown

    # The standard age tool opens the same sealed file: a tar holding the same statement.json
    (sealed,) = (world.data_dir / "evidence" / CASE_REF).glob(f"{statement_id}.age")
    opened = subprocess.run(  # noqa: ASYNC221
        [AGE, "-d", "-i", str(world.identity), str(sealed)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert opened.returncode == 0, opened.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(opened.stdout)) as tar:
        member = tar.extractfile("statement.json")
        assert member is not None
        assert json.loads(member.read()) == statement

    # After sealing, nothing the person said is on the bot's side
    needles = {
        **audio_needle(note),
        **text_needles("transcript", said),
        **{k: v for i, t in enumerate(typed) for k, v in text_needles(f"typed{i}", t).items()},
    }
    db_files = [world.db_path.with_name(world.db_path.name + s) for s in ("", "-wal", "-shm")]
    assert scan([*files_under(world.data_dir), *db_files], needles) == []
    assert world.scalar("SELECT count(*) FROM answers") == 0
    assert world.scalar("SELECT dek_id FROM interviews WHERE id = ?", interview_id) is None


def tampered(store: Path, root: Path, name: str) -> Path:
    copy = root / name
    shutil.copytree(store, copy)
    return copy


async def test_tampering_is_detected_named_and_never_exported(world: World, tmp_path: Path) -> None:
    # Given two sealed statements in the case
    first = await finish(
        world,
        Person(world.client, world.user(777002101)),
        world.invites.family[0],
        world.canary("I am his father"),
    )
    second = await finish(
        world,
        Person(world.client, world.user(777002102)),
        world.invites.family[1],
        world.canary("I am his grandmother"),
    )
    store = world.data_dir / "evidence"
    ok = verify(world, store)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    case_dir = Path(CASE_REF)
    root = tmp_path / "copies"

    def run(
        copy: Path,
        name: str,
        identity: Path = world.identity,
    ) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str], Path]:
        out = tmp_path / f"out-{name}"
        return verify(world, copy), pull(world, identity, out, copy), out

    # A wrong identity: nothing is decrypted, nothing written
    stranger = tmp_path / "stranger.txt"
    made = review(world.bot.env, "keygen", "--out", str(stranger))
    assert made.returncode == 0, made.stderr
    checked, pulled, out = run(store, "wrong-identity", stranger)
    assert checked.returncode == 0
    assert pulled.returncode != 0 and "not a recipient" in pulled.stderr, pulled.stderr
    assert not exported(out) and not list(out.glob("**/*.md"))

    # A modified sealed file: named; the pull writes nothing at all (fail closed)
    copy = tampered(store, root, "modified")
    sealed = copy / case_dir / f"{first}.age"
    data = bytearray(sealed.read_bytes())
    data[len(data) // 2] ^= 0x01
    sealed.write_bytes(bytes(data))
    checked, pulled, out = run(copy, "modified")
    assert checked.returncode == 1 and first in checked.stdout + checked.stderr
    assert (
        "sha256" in (checked.stdout + checked.stderr).lower()
        or "modified" in (checked.stdout + checked.stderr).lower()
    ), checked.stdout
    assert pulled.returncode != 0 and "nothing was written" in pulled.stderr
    assert not out.exists()

    # A swapped signature: both statements named, neither exported
    copy = tampered(store, root, "swapped")
    a, b = copy / case_dir / f"{first}.sig.json", copy / case_dir / f"{second}.sig.json"
    a_bytes, b_bytes = a.read_bytes(), b.read_bytes()
    a.write_bytes(b_bytes)
    b.write_bytes(a_bytes)
    checked, pulled, out = run(copy, "swapped")
    report = checked.stdout + checked.stderr
    assert checked.returncode == 1 and first in report and second in report, report
    assert "signature" in report.lower(), report
    assert pulled.returncode != 0 and not exported(out)

    # A removed ledger entry, and two entries in the wrong order: the whole case is refused
    for name, change, named in (
        ("removed", lambda lines: lines[1:], "entry 1 missing"),
        ("removed-last", lambda lines: lines[:1], "entries removed from the end"),
        ("reordered", lambda lines: [lines[1], lines[0], *lines[2:]], "entries reordered"),
    ):
        copy = tampered(store, root, name)
        ledger = copy / case_dir / "ledger.jsonl"
        lines = ledger.read_bytes().splitlines(keepends=True)
        assert len(lines) == 2
        ledger.write_bytes(b"".join(change(lines)))
        checked, pulled, out = run(copy, name)
        report = checked.stdout + checked.stderr
        assert checked.returncode == 1 and named in report, report
        assert pulled.returncode != 0 and named in pulled.stderr, pulled.stderr
        assert not out.exists() or not any(out.rglob("*.json")), sorted(out.rglob("*"))

    # The untouched store still pulls both
    checked, pulled, out = run(store, "untouched")
    assert pulled.returncode == 0, pulled.stderr
    assert exported(out) == {first, second}


async def test_withdrawal_after_submission_is_marked_and_nothing_exported(
    world: World, tmp_path: Path
) -> None:
    # Given a sealed statement that the reviewer has already pulled once
    person = Person(world.client, world.user(777002201))
    statement_id = await finish(
        world, person, world.invites.family[0], world.canary("I am her neighbour")
    )
    out = tmp_path / "pulled"
    assert pull(world, world.identity, out).returncode == 0
    assert exported(out) == {statement_id}

    # When the person withdraws it
    await person.command("withdraw", expect="Do you want to withdraw?")
    await person.press("wdy", expect="You have withdrawn")
    assert world.scalar("SELECT state FROM statements WHERE id = ?", statement_id) == "withdrawn"

    # Then a signed notice is in the store, the pull marks it withdrawn and removes the content
    notice = world.data_dir / "evidence" / CASE_REF / f"{statement_id}.withdrawal.json"
    assert notice.exists() and notice.with_name(f"{statement_id}.withdrawal.sig.json").exists()
    assert verify(world, world.data_dir / "evidence").returncode == 0
    done = pull(world, world.identity, out)
    assert done.returncode == 0, done.stderr
    assert rows_of(index_of(out))[statement_id]["status"] == "withdrawn"
    assert not (out / statement_id).exists()
    fresh = tmp_path / "fresh"
    assert pull(world, world.identity, fresh).returncode == 0
    assert rows_of(index_of(fresh))[statement_id]["status"] == "withdrawn"
    assert not exported(fresh)


async def test_a_crash_at_any_step_of_sealing_is_completed_on_restart(
    world: World, tmp_path: Path
) -> None:
    # Given sealing that cannot reach the store (a file where the case folder should be)
    blocker = world.data_dir / "evidence" / CASE_REF
    blocker.write_bytes(b"")
    people = [Person(world.client, world.user(777002300 + i)) for i in range(len(CRASH_POINTS))]
    codes = [*world.invites.family, *world.invites.professional]

    # And one submitted (consented, not yet sealed) statement per crash point
    statements = []
    for person, code in zip(people, codes, strict=False):
        statements.append(
            await finish(
                world,
                person,
                code,
                world.canary("I was there"),
                expect="sealing it is taking longer than usual",
            )
        )
    assert {world.scalar("SELECT state FROM statements WHERE id = ?", s) for s in statements} == {
        "submitted"
    }
    consents = world.rows("SELECT * FROM consent_records ORDER BY id")
    assert len(consents) >= len(statements)
    await world.bot.kill()
    blocker.unlink()

    # When each statement's sealing is killed (SIGKILL) at a different step (the latest step
    # first: it creates the case's ledger, which `review verify` wants before anything else)
    for statement_id, point in zip(statements, reversed(CRASH_POINTS), strict=True):
        assert crash_sealing(world.bot.env, world.data_dir, statement_id, point) == -9, point
        assert (
            world.scalar("SELECT state FROM statements WHERE id = ?", statement_id) == "submitted"
        ), f"{point}: the database moved on before the crash"
        # Either nothing or one whole statement: the store verifies (warnings at most)
        check = verify(world, world.data_dir / "evidence")
        assert check.returncode == 0, f"{point}: {check.stdout}{check.stderr}"

    # Then the restarted bot's sweep seals every one of them, exactly once
    await world.bot.start()
    await wait_for_log(world, "interrupted statement(s) completed", timeout=60)
    sealed = world.rows("SELECT id, state, receipt_code FROM statements ORDER BY id")
    assert {(s, st) for s, st, _ in sealed} == {(s, "sealed") for s in statements}
    ledger = (world.data_dir / "evidence" / CASE_REF / "ledger.jsonl").read_text().splitlines()
    ids = [json.loads(line)["statement_id"] for line in ledger]
    assert sorted(ids) == sorted(statements), "a statement is missing or sealed twice"
    assert world.rows("SELECT * FROM consent_records ORDER BY id") == consents
    for person, (_, _, code) in zip(
        people, sorted(sealed, key=lambda r: statements.index(r[0])), strict=True
    ):
        await person.command("receipt", expect=code)
    out = tmp_path / "pulled"
    done = pull(world, world.identity, out)
    assert done.returncode == 0, done.stderr
    assert exported(out) == set(statements)
