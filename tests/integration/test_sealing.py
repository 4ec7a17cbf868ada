"""Sealing with the real services, database, cipher and evidence store (no Telegram).

A participant's interview is driven through ``ConversationService`` exactly as the handlers do,
one transaction per update; then ``SealingService`` seals, the reviewer's ``pull_case`` opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.container import Container, signer_fingerprint
from bot.settings import load_settings
from interview.services.replies import Outcome
from review.pull import pull_case
from review.trust import TrustedSigner
from storage.evidence import generate_signing_key, load_identities, write_identity_file
from storage.evidence.store import LocalEvidenceStore
from storage.keyfile import FileKeyProvider
from storage.tables import Answer, ConsentRecord, DataKeyRow, Interview, Statement
from tests.e2e.voice_helpers import statement_files

CASE = "LCSPR-SEAL-01"
CONSENT = ("take_part", "quote", "anonymised_publication")


@pytest.fixture
async def container(tmp_path: Path) -> AsyncIterator[tuple[Container, Path]]:
    """What `casevoice init` + `case create` leave behind, opened the way the bot opens it."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    FileKeyProvider.create(data_dir / "keys.json")
    generate_signing_key(data_dir / "signing-key.pem")
    (data_dir / "evidence").mkdir(mode=0o700)
    identity = tmp_path / "reviewer.txt"
    recipient = write_identity_file(identity)
    settings = load_settings(data_dir=data_dir, bot_username="casevoice_test_bot")
    async with await Container.open(settings, with_evidence=True) as opened:
        await opened.cases.create(CASE, [recipient], title="A review")
        yield opened, identity


class Participant:
    def __init__(self, container: Container, user_id: int) -> None:
        self.c = container
        self.user_hash = container.vault.user_hash(user_id)
        self.messages = 0

    async def _in_tx(self, call: str, *args: str) -> Outcome:
        async with self.c.sessions() as session, session.begin():
            method = getattr(self.c.conversation, call)
            outcome: Outcome = await method(session, self.user_hash, *args)
            return outcome

    async def press(self, data: str) -> Outcome:
        return await self._in_tx("press", data)

    async def text(self, text: str) -> Outcome:
        self.messages += 1
        return await self._in_tx("text", text, f"msg:{self.messages}")

    async def to_readback(self, code: str, answer: str) -> None:
        await self._in_tx("start", code)
        await self.press("ok")
        for key in CONSENT:
            outcome = await self.press(f"cy:{key}")
        await self.text(answer)
        outcome = await self.press(f"done:{prompt_of(outcome)}")
        while (prompt := prompt_of(outcome)) is not None:
            outcome = await self.press(f"skip:{prompt}")
        assert any("Your statement is ready" in s.text for s in outcome.says)

    async def send(self) -> str:
        outcome = await self.press("send")
        assert outcome.seal_statement is not None
        return outcome.seal_statement


def prompt_of(outcome: Outcome) -> str | None:
    for say in reversed(outcome.says):
        for row in say.buttons:
            for button in row:
                if button.action == "pause" and button.arg:
                    return button.arg
    return None


async def count(c: Container, model: type, *where: Any) -> int:
    async with c.sessions() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


def ledger_ids(store: Path) -> list[str]:
    import json

    path = store / CASE / "ledger.jsonl"
    return [json.loads(line)["statement_id"] for line in path.read_text().splitlines()]


async def test_sealing_is_idempotent_and_erases_the_bots_readable_copy(
    container: tuple[Container, Path], tmp_path: Path
) -> None:
    c, identity = container
    code = (await c.invites.create(CASE, "family")).code
    person = Participant(c, 9001)
    canary = "She sang on the stairs cnry7f3a91"
    await person.to_readback(code, canary)
    statement_id = await person.send()
    consents = await count(c, ConsentRecord)
    async with c.sessions() as session:
        submitted = await session.get(Statement, statement_id)
        assert submitted is not None and submitted.interview_id is not None
        interview = await session.get(Interview, submitted.interview_id)
        assert interview is not None and interview.dek_id is not None
        dek_id = interview.dek_id

    # Sealing twice (the handler, then a sweep racing it) gives one ledger entry, one receipt
    sealing = c.conversation.sealing
    assert sealing is not None
    first, second = await asyncio.gather(sealing.seal(statement_id), sealing.seal(statement_id))
    sealed = first or second
    assert sealed is not None and (first is None or second is None)
    assert await sealing.sweep() == 0
    store = c.settings.evidence_path
    assert ledger_ids(store) == [statement_id]

    # The bot's readable copy is gone: data key shredded, answers deleted, no plaintext on disk
    async with c.sessions() as session:
        row = await session.get(Statement, statement_id)
        assert row is not None and row.state == "sealed" and row.body_ct is None
        assert row.receipt_code == sealed.receipt_code
    assert await count(c, Answer) == 0
    assert await count(c, ConsentRecord) == consents
    assert await count(c, DataKeyRow, col(DataKeyRow.id) == dek_id) == 0
    for path in c.settings.data_dir.rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path

    # And the reviewer opens exactly what was said
    out = tmp_path / "out"
    signer = TrustedSigner(signer_fingerprint(c.settings))  # as `casevoice case show` prints it
    result = pull_case(
        LocalEvidenceStore(store), CASE, load_identities(identity), out, signer=signer
    )
    assert [r.status for r in result.rows] == ["exported"]
    statement = statement_files(out)[statement_id]
    texts = [p["text"] for s in statement["sections"] for i in s["items"] for p in i["parts"]]
    assert texts == [canary]


async def test_evidence_written_but_database_not_updated_is_completed_by_the_sweep(
    container: tuple[Container, Path],
) -> None:
    c, _identity = container
    sealing = c.conversation.sealing
    assert sealing is not None
    codes = [(await c.invites.create(CASE, "family")).code for _ in range(2)]
    ids = []
    for n, code in enumerate(codes):
        person = Participant(c, 9100 + n)
        await person.to_readback(code, f"answer {n}")
        ids.append(await person.send())

    # Given the first statement sealed into the store, then a crash before the database knew
    prepared = await sealing._bundle(ids[0])  # noqa: SLF001 - recreating a crash's half-state
    assert prepared is not None
    written = await asyncio.to_thread(sealing.writer.seal_statement, *prepared)
    async with c.sessions() as session:
        assert (await session.get(Statement, ids[0])).state == "submitted"  # type: ignore[union-attr]

    # When the sweep runs (as at start-up), both are sealed; the first reuses its ledger entry
    assert await sealing.sweep() == 2
    assert sorted(ledger_ids(c.settings.evidence_path)) == sorted(ids)
    assert ledger_ids(c.settings.evidence_path)[0] == ids[0]
    async with c.sessions() as session:
        rows = (
            (await session.execute(select(Statement).where(col(Statement.id).in_(ids))))
            .scalars()
            .all()
        )
    assert {r.state for r in rows} == {"sealed"}
    assert next(r for r in rows if r.id == ids[0]).receipt_code == written.receipt_code
    assert await sealing.sweep() == 0
