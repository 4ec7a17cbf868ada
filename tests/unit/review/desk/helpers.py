"""A pulled case made from statements the bot's own code assembles, sealed and pulled for real.

``interview.statement.assemble_statement`` builds each statement from answers (as the bot does
at submission), the evidence writer seals it to a reviewer key and ``pull_case`` verifies and
decrypts it. This lets tests set what the participant-side UI cannot yet (the "not for quoting"
mark) and choose each person's consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from interview.answers import AnswerPart, AnswerVersion, ChronologyEvent, PromptAnswer
from interview.consent import ConsentChoices, consent_texts
from interview.render import render_markdown
from interview.script import builtin_script
from interview.statement import StatementMeta, assemble_statement
from interview.when import split_event
from review.desk.pulled import PulledCase, load_pulled
from review.pull import pull_case
from review.trust import TrustedSigner
from storage.evidence import EvidenceWriter, LocalEvidenceStore, StatementBundle
from storage.evidence.keys import fingerprint
from tests.unit.evidence.helpers import new_reviewer

CASE = "LCSPR-2024-09"
AT = datetime(2024, 9, 2, 9, 15, tzinfo=UTC)


def typed(text: str) -> AnswerPart:
    version = AnswerVersion(text=text, source="typed", author="participant", at=AT)
    return AnswerPart(kind="text", text=text, versions=(version,), received_at=AT)


def text(prompt_id: str, *texts: str, not_for_quoting: bool = False) -> PromptAnswer:
    return PromptAnswer(
        prompt_id=prompt_id,
        parts=tuple(typed(t) for t in texts),
        not_for_quoting=not_for_quoting,
    )


def events(prompt_id: str, *texts: str) -> PromptAnswer:
    return PromptAnswer(
        prompt_id=prompt_id,
        events=tuple(
            ChronologyEvent(when=split_event(t)[0] or "date not given", parts=(typed(t),))
            for t in texts
        ),
    )


def choice(prompt_id: str, *values: str) -> PromptAnswer:
    return PromptAnswer(prompt_id=prompt_id, choices=values)


@dataclass(frozen=True)
class Person:
    code: str
    role: str  # family | professional
    label: str
    answers: tuple[PromptAnswer, ...]
    quote: bool = True
    publish: bool = True


def seal_and_pull(
    root: Path, people: list[Person], *, withdraw: tuple[str, ...] = ()
) -> PulledCase:
    return sealed_and_pulled(root, people, withdraw=withdraw)[0]


def sealed_and_pulled(
    root: Path, people: list[Person], *, withdraw: tuple[str, ...] = ()
) -> tuple[PulledCase, EvidenceWriter]:
    reviewer = new_reviewer()
    store = LocalEvidenceStore(root / "store")
    key = Ed25519PrivateKey.generate()
    writer = EvidenceWriter(store, key)
    for number, person in enumerate(people, start=1):
        script = builtin_script(person.role)
        texts = consent_texts(script.audience)
        consent = ConsentChoices.decide(
            texts,
            take_part=True,
            quote=person.quote,
            anonymised_publication=person.publish,
            at=AT,
        )
        meta = StatementMeta(
            case_id=CASE,
            participant_id=person.code,
            interview_id=f"i{number}",
            role=person.role,
            assembled_at=AT,
            label=person.label,
        )
        statement = assemble_statement(
            script, {a.prompt_id: a for a in person.answers}, consent, meta, consent_wording=texts
        )
        statement_id = f"s{number}-{person.code}"
        writer.seal_statement(
            StatementBundle(
                statement_id=statement_id,
                case_ref=CASE,
                files={
                    "statement.json": statement.to_json().encode(),
                    "statement.md": render_markdown(statement).encode(),
                    "script.json": script.canonical_json.encode(),
                },
                role=person.role,
                submitted_at=AT,
                script_ref=script.ref,
            ),
            [reviewer.recipient],
        )
        if person.code in withdraw:
            writer.write_withdrawal(CASE, statement_id, "participant-request")
    out = root / "statements"
    pull_case(
        store, CASE, [reviewer.identity], out, signer=TrustedSigner(fingerprint(key.public_key()))
    )
    return load_pulled(out, CASE), writer


REFUSER_WORDS = "Nobody came when I rang cnryREFUSE1"
MARKED_WORDS = "My manager told me to leave it cnryMARK2"


def standard_people() -> list[Person]:
    """A family member who refuses quotes, one who allows them, two professionals."""
    return [
        Person(
            "F-01",
            "family",
            "Mother",
            (
                text("relationship", "I am his mum"),
                text("about_child", "Sam was a happy boy who loved his bike."),
                events(
                    "key_events",
                    "Just before Christmas 2023 the health visitor stopped coming",
                    "A fortnight after that the school rang me",
                ),
                text("asking_for_help", REFUSER_WORDS),
            ),
            quote=False,
            publish=False,
        ),
        Person(
            "F-02",
            "family",
            "Grandmother",
            (
                text("relationship", "I am Sam's nan"),
                text(
                    "about_child",
                    "Sam lived with Tracey Smith at 14 Elm Road, NE1 4XY. Call me on 07700 900123.",
                ),
                text("wish", "I wish Oak Lane Primary had listened when Sam (7) was hungry."),
            ),
            quote=True,
            publish=True,
        ),
        Person(
            "P-01",
            "professional",
            "Health visitor",
            (
                text("job_title", "Health visitor"),
                text("agency", "Northshire Community Health Trust"),
                choice("agency_type", "health"),
                events(
                    "key_contacts",
                    "3 May 2024 - home visit, mother seen",
                    "20/06/2024: call from the school",
                ),
                text("actions_taken", "I made a referral to early help on 12 June 2024."),
                choice("supervision", "mixed"),
                text("supervision_more", MARKED_WORDS, not_for_quoting=True),
                choice("workload", "stretched"),
                choice("info_sharing", "poorly"),
            ),
            quote=True,
            publish=False,
        ),
        Person(
            "P-02",
            "professional",
            "Class teacher",
            (
                text("job_title", "Class teacher"),
                text("agency", "Oak Lane Primary School"),
                choice("agency_type", "education"),
                choice("supervision", "helpful"),
                choice("workload", "stretched"),
                choice("info_sharing", "partly"),
                text(
                    "learning_for_others",
                    "Listen to the children. Email me at a.teacher@oaklane.sch.uk",
                ),
            ),
            quote=True,
            publish=True,
        ),
    ]
