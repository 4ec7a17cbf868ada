"""A whole case for the reviewer's desk, made by the real bot code path and pulled.

Two people answer through ``ConversationService`` exactly as the handlers drive it (one
transaction per update), with the real database, cipher, sealing service and evidence store:

* F-01, labelled "Mother": takes part but refuses quotes; dated family events in words ("just
  before Christmas 2023", "a fortnight after that"); a voice note the transcriber was unsure of,
  which she corrects; a second voice note she confirms as heard, uncertain words and all.
* P-01, labelled "Health visitor": agrees to everything; job title and agency as fields; key
  contacts with dates; choices on supervision, workload and information sharing.

Whisper itself is not run: the transcript a worker would produce is stored through the same
``TranscriptionLoop._store`` a worker's result goes through.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.container import Container, signer_fingerprint
from bot.settings import load_settings
from handlers.callbacks import unpack
from interview.services.replies import Outcome
from interview.services.transcribing import TranscriptionLoop
from interview.services.voice import VoiceNote
from review.pull import PullResult, pull_case
from review.trust import TrustedSigner
from storage.evidence import generate_signing_key, load_identities, write_identity_file
from storage.evidence.store import LocalEvidenceStore
from storage.jobs import TranscriptionJob
from storage.keyfile import FileKeyProvider
from transcription.transcript import Transcript, Word, make_segment

CASE = "LCSPR-DESK-01"
HEARD = "We went round to the clinic on the Tuesday"
CORRECTED = "We went round to the clinic on the Thursday"
CONFIRMED_HEARD = "The nurse said he was thriving"
FAMILY_CANARY = "Sam loved dinosaurs <it was fine> cnryF01x"
PROFESSIONAL_CANARY = "I made a referral to early help cnryP01x"


@dataclass
class DeskCase:
    out: Path
    store: Path
    identity: Path
    result: PullResult
    ids: dict[str, str]  # code → statement id


def transcript(text: str, unsure: set[str]) -> Transcript:
    """What a worker returns: word probabilities, with ``unsure`` words below the threshold."""
    words = tuple(
        Word(float(i), float(i + 1), f" {w}", 0.2 if w.strip(".,") in unsure else 0.95)
        for i, w in enumerate(text.split())
    )
    segment = make_segment(0.0, float(len(words)), text, -0.3, 0.01, words)
    return Transcript(text, "en", 0.99, (segment,), "faster-whisper-base-int8", "0" * 64, 5.0)


class Speaker:
    def __init__(self, c: Container, user_id: int) -> None:
        self.c = c
        self.user_id = user_id
        self.user_hash = c.vault.user_hash(user_id)
        self.messages = 0
        self.outcome = Outcome()

    async def _in_tx(self, call: str, *args: Any) -> Outcome:
        async with self.c.sessions() as session, session.begin():
            method = getattr(self.c.conversation, call)
            self.outcome = await method(session, self.user_hash, *args)
            return self.outcome

    async def press(self, data: str) -> Outcome:
        return await self._in_tx("press", unpack(data))

    async def text(self, text: str) -> Outcome:
        self.messages += 1
        return await self._in_tx("text", text, f"msg:{self.messages}")

    async def voice(self, heard: str, unsure: set[str]) -> str:
        """A voice note, transcribed as a worker would; returns the answer id."""
        self.messages += 1
        note = VoiceNote(
            b"OggS not really audio", "audio/ogg", 5.0, self.user_id, f"v:{self.messages}"
        )
        await self._in_tx("voice", note)
        async with self.c.sessions() as session:
            job = (
                (
                    await session.execute(
                        select(TranscriptionJob).where(col(TranscriptionJob.state) == "queued")
                    )
                )
                .scalars()
                .one()
            )
        loop = TranscriptionLoop(self.c.sessions, self.c.vault, None, None)  # type: ignore[arg-type]
        said = await loop._store(job.id, transcript(heard, unsure))  # noqa: SLF001 - a worker's result
        assert said is not None
        return job.answer_id

    async def start(self, code: str, consent: tuple[bool, bool, bool]) -> None:
        await self._in_tx("start", code)
        await self.press("ok")
        for key, yes in zip(("take_part", "quote", "anonymised_publication"), consent, strict=True):
            await self.press(f"{'cy' if yes else 'cn'}:{key}")

    def prompt(self) -> str | None:
        for say in reversed(self.outcome.says):
            for row in say.buttons:
                for button in row:
                    if button.action == "pause" and button.press.prompt:
                        return button.press.prompt
        return None

    async def walk(self, plan: dict[str, Any]) -> None:
        """Answer what ``plan`` names (texts, a choice, choices, a callable); skip the rest."""
        while (prompt := self.prompt()) is not None:
            step = plan.get(prompt)
            if step is None:
                await self.press(f"skip:{prompt}")
            elif isinstance(step, str):
                await self.press(f"ch:{prompt}:{step}")
            elif isinstance(step, tuple):
                for value in step:
                    await self.press(f"ch:{prompt}:{value}")
                await self.press(f"done:{prompt}")
            elif callable(step):
                await step(self)
                await self.press(f"done:{prompt}")
            else:
                for text in step:
                    await self.text(text)
                await self.press(f"done:{prompt}")
        assert any("Your statement is ready" in s.text for s in self.outcome.says)

    async def send(self) -> str:
        outcome = await self.press("send")
        assert outcome.seal_statement is not None
        return outcome.seal_statement


async def _family_voice(person: Speaker) -> None:
    answer_id = await person.voice(HEARD, {"Tuesday"})
    await person.press(f"vfix:{answer_id}")
    await person.text(CORRECTED)
    confirmed = await person.voice(CONFIRMED_HEARD, {"thriving"})
    await person.press(f"vok:{confirmed}")


async def build(root: Path) -> DeskCase:
    data_dir = root / "data"
    data_dir.mkdir(mode=0o700)
    FileKeyProvider.create(data_dir / "keys.json")
    generate_signing_key(data_dir / "signing-key.pem")
    (data_dir / "evidence").mkdir(mode=0o700)
    identity = root / "reviewer.txt"
    recipient = write_identity_file(identity)
    settings = load_settings(data_dir=data_dir, bot_username="casevoice_test_bot")
    ids: dict[str, str] = {}
    async with await Container.open(settings, with_evidence=True) as c:
        await c.cases.create(CASE, [recipient], title="A review")
        family = await c.invites.create(CASE, "family", label="Mother")
        professional = await c.invites.create(CASE, "professional", label="Health visitor")

        mother = Speaker(c, 8001)
        await mother.start(family.code, (True, False, False))
        await mother.walk(
            {
                "relationship": ["I am his mum"],
                "about_child": [FAMILY_CANARY],
                "services_involved": ("midwife_hv", "school"),
                "health_experience": _family_voice,
                "key_events": [
                    "Just before Christmas 2023 the health visitor stopped coming",
                    "A fortnight after that the school rang me about his weight",
                ],
                "listened_to": "not_really",
                "wish": ["I wish someone had listened to me"],
            }
        )
        ids[family.pseudonym] = await mother.send()

        visitor = Speaker(c, 8002)
        await visitor.start(professional.code, (True, True, True))
        await visitor.walk(
            {
                "job_title": ["Health visitor"],
                "agency": ["Northshire Community Health Trust"],
                "agency_type": "health",
                "key_contacts": [
                    "3 May 2024 - home visit, mother seen",
                    "20/06/2024: call from the school about his weight",
                ],
                "actions_taken": [PROFESSIONAL_CANARY],
                "supervision": "mixed",
                "supervision_more": [
                    "Monthly, often cancelled. Jo Bloggs at 14 Elm Road, NE1 4XY knew."
                ],
                "workload": "stretched",
                "info_sharing": "poorly",
            }
        )
        ids[professional.pseudonym] = await visitor.send()

        sealing = c.conversation.sealing
        assert sealing is not None
        for statement_id in ids.values():
            assert await sealing.seal(statement_id) is not None
        store = settings.evidence_path
    out = root / "statements"
    signer = TrustedSigner(signer_fingerprint(settings))  # as `casevoice case show` prints it
    result = await asyncio.to_thread(
        functools.partial(
            pull_case,
            LocalEvidenceStore(store),
            CASE,
            load_identities(identity),
            out,
            signer=signer,
        )
    )
    return DeskCase(out, store, identity, result, ids)
