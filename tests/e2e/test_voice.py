"""Voice answers end to end: the real bot process, the sandbox Bot API, a real Whisper model.

tiny.en keeps these quick; the crash test runs the default model (base). Every clip is real
speech from tests/fixtures/audio; odd audio (silence) is encoded in memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil
import pytest

from tests.e2e.people import Message, Person
from tests.e2e.voice_helpers import (
    COULD_NOT,
    HEARD,
    HEARING,
    TmpWatch,
    answer_id,
    audio_needle,
    button,
    files_under,
    heard,
    parts_of,
    pull,
    reference,
    scan,
    send_statement,
    send_voice,
    silent_ogg,
    start_and_wait_ready,
    statement_files,
    text_needles,
    with_transcription,
    words,
)
from tests.e2e.world import CASEVOICE, World
from tests.fixtures import clip, clip_path

pytestmark = pytest.mark.slow

TINY = "whisper-tiny.en-ct2-int8"
BASE = "whisper-base-ct2-int8"


def text_of(message: Message) -> str:
    return str(message.get("text") or "")


def heard_words(message: Message) -> list[str]:
    body = text_of(message).split("\n\n")[1]
    return words(body)


# The one whole interview that also runs on PostgreSQL: bot process, voice, receipt, pull.
@pytest.mark.parametrize(
    "world", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_voice_answer_is_heard_confirmed_corrected_and_recorded_again(
    world: World, tmp_path: Path
) -> None:
    # Given the bot with one tiny.en worker and a family member at the first question
    await with_transcription(world)
    aunt = Person(world.client, world.user(777001001))
    await aunt.consent(world.invites.family[0])
    assert await aunt.current_prompt() == "relationship"
    interview_id, _ = world.interview_of(aunt.user_id)

    # When they send a real voice note
    after = await send_voice(aunt, clip("real_goforward"))

    # Then the bot shows it is working, then what it heard, with the three buttons
    first = await heard(aunt, after)
    assert HEARD in text_of(first)
    assert {"go", "forward"} <= set(heard_words(first)), text_of(first)
    actions = await world.client.requests("sendChatAction")
    assert any(r["params"].get("chat_id") == aunt.user_id for r in actions), actions[:3]
    progress = [
        r
        for r in await world.client.requests("sendMessage")
        if HEARING in str(r["params"].get("text"))
    ]
    assert progress, "no progressive 'Listening to your voice note…' message"
    assert "forward" in str(progress[0]["params"]["text"]).lower()
    ok_id = answer_id(first)
    assert {button(first, a) for a in ("vok", "vfix", "vre")} == {
        f"vok:{ok_id}",
        f"vfix:{ok_id}",
        f"vre:{ok_id}",
    }

    # ✓ That's right: the part stays as heard, one transcript version by the transcriber
    after = await aunt.high_water()
    await aunt.press(f"vok:{ok_id}")
    await aunt.wait("Saved", after)
    assert world.rows(
        "SELECT source, author, model_id FROM answer_versions WHERE answer_id = ?", ok_id
    ) == [("transcript", "transcriber", TINY)]

    # ✎ Correct it: the next typed text is a new version; the transcript is kept
    after = await send_voice(aunt, clip("tts_s1"))
    second = await heard(aunt, after)
    assert {"school", "family", "march"} <= set(heard_words(second)), text_of(second)
    fix_id = answer_id(second)
    after = await aunt.high_water()
    await aunt.press(f"vfix:{fix_id}")
    await aunt.wait("Please type your answer the way you meant it", after)
    correction = world.canary("I first met the family in May")
    await aunt.say(correction, expect="I have saved your correction")
    versions = world.rows(
        "SELECT version, source, author, model_id FROM answer_versions "
        "WHERE answer_id = ? ORDER BY version",
        fix_id,
    )
    assert versions == [
        (1, "transcript", "transcriber", TINY),
        (2, "correction", "participant", None),
    ]

    # 🎙 Record again: that part no longer counts; a new note is accepted and heard
    after = await send_voice(aunt, clip("real_goforward"))
    again = await heard(aunt, after)
    again_id = answer_id(again)
    after = await aunt.high_water()
    await aunt.press(f"vre:{again_id}")
    await aunt.wait("Please record your answer again", after)
    assert world.scalar("SELECT status FROM answers WHERE id = ?", again_id) == "superseded"
    after = await send_voice(aunt, clip("real_libri_0880"))
    replaced = await heard(aunt, after)
    replaced_id = answer_id(replaced)
    await aunt.press(f"vok:{replaced_id}")
    assert world.active_parts(interview_id) == {"relationship": 3}

    # When they finish (Done, skip the rest) and send the statement
    await aunt.press("done:relationship")
    await aunt.wait_for_next("relationship")
    await aunt.walk({})
    receipt = await send_statement(aunt)
    assert "Receipt code:" in text_of(receipt)

    # Then the reviewer's pull holds the transcripts and the correction, with who, when, model
    out = tmp_path / "pulled"
    done = pull(world, world.identity, out)
    assert done.returncode == 0, done.stderr
    (statement,) = statement_files(out).values()
    parts = parts_of(statement, "relationship")
    assert [p["kind"] for p in parts] == ["voice", "voice", "voice"]
    confirmed, corrected, recorded = parts
    assert [(v["source"], v["author"], v["model_id"]) for v in confirmed["versions"]] == [
        ("transcript", "transcriber", TINY)
    ]
    assert {"go", "forward"} <= set(words(confirmed["text"]))
    assert [(v["source"], v["author"], v["model_id"]) for v in corrected["versions"]] == [
        ("transcript", "transcriber", TINY),
        ("correction", "participant", None),
    ]
    assert {"school", "attendance"} <= set(words(corrected["versions"][0]["text"]))
    assert corrected["text"] == correction == corrected["versions"][1]["text"]
    assert all(v["at"] for p in parts for v in p["versions"])
    assert corrected["versions"][0]["at"] <= corrected["versions"][1]["at"]
    assert recorded["versions"][0]["model_id"] == TINY
    assert "go forward" not in json.dumps(recorded).lower(), "the superseded note was exported"


def children(pid: int) -> list[psutil.Process]:
    try:
        found: list[psutil.Process] = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return found


async def wait_running(world: World, answer: str | None = None, timeout: float = 60.0) -> str:  # noqa: ASYNC109
    """The id of a transcription job that a worker has claimed (state running)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        rows = world.rows("SELECT id FROM transcription_jobs WHERE state = 'running'")
        if rows:
            return str(rows[0][0])
        await asyncio.sleep(0.05)
    raise AssertionError("no transcription job was ever running")


async def assert_heard_once(world: World, interview_id: str, job_id: str, message: Message) -> None:
    """One answer part, one transcript, one version: the killed attempt left nothing behind."""
    for _ in range(100):  # the "notified" flag is committed just after the message is sent
        if world.scalar("SELECT notified FROM transcription_jobs WHERE id = ?", job_id):
            break
        await asyncio.sleep(0.05)
    assert HEARD in text_of(message)
    expected = set(words(reference("tts_m1")))
    got = set(heard_words(message))
    assert len(expected & got) >= 0.7 * len(expected), (sorted(expected - got), text_of(message))
    (answer,) = world.rows("SELECT id, status FROM answers WHERE interview_id = ?", interview_id)
    assert answer[1] == "active"
    assert world.rows("SELECT source FROM answer_versions WHERE answer_id = ?", answer[0]) == [
        ("transcript",)
    ]
    assert world.scalar("SELECT count(*) FROM transcripts") == 1
    assert world.rows(
        "SELECT state, attempts, notified FROM transcription_jobs WHERE id = ?", job_id
    ) == [("done", 2, 1)]


async def test_the_bot_killed_mid_transcription_finishes_the_job_after_restart(
    world: World,
) -> None:
    # Given the bot with the default model (base) and a 30-second voice note being transcribed
    await with_transcription(world, model="base")
    assert world.bot.proc is not None
    mother = Person(world.client, world.user(777001002))
    await mother.consent(world.invites.family[0])
    interview_id, _ = world.interview_of(mother.user_id)
    before = await send_voice(mother, clip("tts_m1"))
    job_id = await wait_running(world)
    workers = children(world.bot.proc.pid)
    assert workers, "no Whisper worker process under the bot"
    await asyncio.sleep(0.5)

    # When the bot is killed (SIGKILL) in the middle of it
    await world.bot.kill()
    assert world.scalar("SELECT state FROM transcription_jobs WHERE id = ?", job_id) == "running", (
        "the job finished before the kill: nothing was proven"
    )
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"orphaned Whisper workers still running: {[p.pid for p in alive]}"

    # Then after a restart the job is claimed again, finished, and the person hears back once
    await start_and_wait_ready(world)
    message = await heard(mother, before, timeout=60)
    await assert_heard_once(world, interview_id, job_id, message)
    assert sum(HEARD in text_of(m) for m in await mother.bot_messages(before)) == 1

    # And the interview goes on
    await mother.say(world.canary("my sister"))


async def test_a_worker_killed_mid_transcription_is_replaced_and_the_job_finishes(
    world: World, tmp_path: Path
) -> None:
    # Given the bot without workers, and `casevoice worker` on its own (tiny.en)
    env = {
        **world.bot.env,
        "CASEVOICE_TRANSCRIPTION_WORKERS": "1",
        "CASEVOICE_WHISPER_MODEL": "tiny.en",
    }
    log_path = tmp_path / "worker.log"

    async def start_worker() -> asyncio.subprocess.Process:
        with log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                CASEVOICE,
                "worker",
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        ready = log_path.read_text().count("worker(s) ready") + 1
        while log_path.read_text().count("worker(s) ready") < ready:
            assert proc.returncode is None, log_path.read_text()[-2000:]
            assert loop.time() < deadline, log_path.read_text()[-2000:]
            await asyncio.sleep(0.1)
        return proc

    worker = await start_worker()
    try:
        father = Person(world.client, world.user(777001003))
        await father.consent(world.invites.family[1])
        interview_id, _ = world.interview_of(father.user_id)
        before = await send_voice(father, clip("tts_m1"))
        job_id = await wait_running(world)
        whisper = children(worker.pid)
        await asyncio.sleep(0.3)

        # When the worker process is killed mid-job
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        assert (
            world.scalar("SELECT state FROM transcription_jobs WHERE id = ?", job_id) == "running"
        ), "the job finished before the kill: nothing was proven"
        _gone, alive = psutil.wait_procs(whisper, timeout=10)
        assert not alive, f"orphaned Whisper workers still running: {[p.pid for p in alive]}"

        # Then a new worker finishes it, and the person hears back exactly once
        worker = await start_worker()
        message = await heard(father, before, timeout=60)
        await assert_heard_once(world, interview_id, job_id, message)
        assert sum(HEARD in text_of(m) for m in await father.bot_messages(before)) == 1
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
    log = log_path.read_text()
    assert world.bot.env["CASEVOICE_BOT_TOKEN"] not in log


async def test_bad_audio_gets_a_kind_message_and_the_interview_goes_on(world: World) -> None:
    # Given the bot with a tiny.en worker and a two-minute limit, and a person at question 1
    await with_transcription(world, CASEVOICE_MAX_VOICE_SECONDS="120")
    uncle = Person(world.client, world.user(777001004))
    await uncle.consent(world.invites.family[0])
    interview_id, _ = world.interview_of(uncle.user_id)

    async def refused_at_once(send: Callable[[], Awaitable[object]], says: str) -> None:
        """Refused before download: the kind message, nothing stored."""
        counts = world.table_counts()
        after = await uncle.high_water()
        await send()
        await uncle.wait(says, after)
        assert world.table_counts() == counts

    async def not_written_down(data: bytes, duration: int, says: str) -> None:
        """Stored (encrypted), then the worker says why it could not be transcribed."""
        after = await send_voice(uncle, data, duration)
        message = await heard(uncle, after)
        assert COULD_NOT in text_of(message) and says in text_of(message), text_of(message)
        assert [b["callback_data"] for b in message["buttons"]] == [f"vre:{answer_id(message)}"], (
            "bad audio must offer Record again only"
        )
        assert (
            world.scalar("SELECT status FROM answers WHERE id = ?", answer_id(message)) == "unheard"
        )

    # Not audio at all, zero bytes, silence, and longer than the limit (but claiming less)
    await not_written_down(os.urandom(40_000), 3, "doesn't look like a voice recording")
    await not_written_down(b"", 1, "seems to be empty")
    await not_written_down(silent_ogg(4), 4, "I couldn't hear any words")
    await not_written_down(silent_ogg(125), 10, "up to about 2 minutes")

    # Said to be longer than the limit: refused before it is even downloaded
    await refused_at_once(
        lambda: world.client.send_voice(uncle.user_id, clip("tts_s1"), 121),
        "longer than I can take (2 minutes)",
    )

    # An audio file over Telegram's 20 MB bot download limit, sent as a document
    big = os.urandom(20 * 1024 * 1024 + 1024)
    await refused_at_once(
        lambda: world.client.send_audio(
            uncle.user_id,
            big,
            600,
            file_name="interview.ogg",
            mime_type="audio/ogg",
            as_document=True,
        ),
        "too large for me to receive (the limit is 20 MB)",
    )

    # Then the interview goes on: a typed answer is saved, and Done moves to the next question
    assert await uncle.current_prompt() == "relationship"
    assert await uncle.answer(world.canary("I am his uncle")) == "relationship"
    assert await uncle.current_prompt() == "child_name"
    assert world.active_parts(interview_id) == {"relationship": 1}
    assert world.scalar("SELECT count(*) FROM audio_blobs") == 4, "a bad note's audio was lost"
    assert world.rows("SELECT state, count(*) FROM transcription_jobs GROUP BY state") == [
        ("failed", 4)
    ]
    assert world.bot.proc is not None and world.bot.proc.returncode is None


async def test_no_plaintext_audio_or_transcript_reaches_the_disk(world: World) -> None:
    # Given the bot with a tiny.en worker, and every file under /tmp changed from now on watched
    tmp = TmpWatch.start()
    await with_transcription(world)
    niece = Person(world.client, world.user(777001005))
    await niece.consent(world.invites.family[0])
    note = clip("tts_s1")

    # When a voice answer is transcribed and confirmed, and a typed canary is given too
    after = await send_voice(niece, note)
    message = await heard(niece, after)
    said = text_of(message).split("\n\n")[1].strip()
    assert {"school", "attendance"} <= set(words(said)), said
    tail = " ".join(said.split()[-4:])
    await niece.press(f"vok:{answer_id(message)}")
    typed = world.canary("We spoke on the landing")
    await niece.say(typed)
    needles = {
        **audio_needle(note),
        **text_needles("transcript", said),
        **text_needles("transcript tail", tail),
        **text_needles("typed", typed),
    }
    assert scan([clip_path("tts_s1")], needles) == [f"audio slice in {clip_path('tts_s1')}"], (
        "the scan cannot find what it looks for"
    )

    def on_disk() -> list[str]:
        db_files = [world.db_path.with_name(world.db_path.name + s) for s in ("", "-wal", "-shm")]
        assert world.db_path.exists()
        return scan(
            [*files_under(world.data_dir), *db_files, *tmp.changed(exclude=[world.data_dir])],
            needles,
        )

    # Then neither the audio, nor what was heard, nor the typed answer is anywhere on disk
    assert on_disk() == []

    # Also at the read-back, just before sealing
    await niece.press("done:relationship")
    await niece.wait_for_next("relationship")
    await niece.walk({})
    assert on_disk() == []

    # And after sealing, when the bot's copy is erased (the sealed file is age-encrypted)
    await send_statement(niece)
    assert list((world.data_dir / "evidence").rglob("*.age")), "nothing was sealed"
    assert on_disk() == []
    assert world.scalar("SELECT count(*) FROM audio_blobs") == 0
    assert world.scalar("SELECT count(*) FROM answers") == 0
