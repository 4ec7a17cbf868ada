from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from interview.chunks import TELEGRAM_LIMIT
from interview.consent import ConsentChoices, ConsentContext, consent_texts
from interview.errors import ConsentError
from interview.script import Audience, builtin_script
from tests.unit.interview.conftest import AT

CASE = ConsentContext(
    partnership="Northshire Safeguarding Children Partnership",
    reviewer="Jo Smith, an independent lead reviewer",
    retention="until 31 March 2032, and then delete them",
    withdraw_until=date(2026, 5, 1),
    support="• Northshire bereavement line: 0800 000 0000",
)
AUDIENCES: list[Audience] = ["family", "professional"]


def all_messages(audience: Audience, ctx: ConsentContext | None = None) -> list[str]:
    texts = consent_texts(audience, ctx, purpose=builtin_script(audience).intro)
    return [
        *texts.intro,
        *texts.tell_me_more,
        *(q.text for q in texts.questions),
        texts.not_now,
        texts.declined,
    ]


@pytest.mark.parametrize("audience", AUDIENCES)
def test_intro_says_telegram_bot_chats_are_not_end_to_end_encrypted(audience: Audience) -> None:
    intro = "\n".join(consent_texts(audience).intro)

    assert "not end-to-end encrypted" in intro
    assert "learning" in intro and "not about blaming" in intro
    for word in ("pause", "skip", "stop", "withdraw", "/clear"):
        assert word in intro


@pytest.mark.parametrize("audience", AUDIENCES)
def test_first_line_never_names_the_child_or_the_case(audience: Audience) -> None:
    for message in all_messages(audience, CASE):
        first = message.splitlines()[0].lower()
        assert "child" not in first
        assert "northshire" not in first
        assert "review" not in first
        assert len(message) <= TELEGRAM_LIMIT


def test_case_settings_fill_the_placeholders() -> None:
    texts = consent_texts("family", CASE)
    text = "\n".join(texts.intro + texts.tell_me_more)

    assert "Northshire Safeguarding Children Partnership is carrying out a review" in text
    assert "until 31 March 2032" in text
    assert "until 1 May 2026" in text
    assert "Northshire bereavement line" in text
    assert "{" not in text


def test_default_support_is_audience_specific() -> None:
    family = "\n".join(consent_texts("family").intro)
    professional = "\n".join(consent_texts("professional").intro)

    assert "Samaritans: call 116 123" in family and "Cruse" in family
    assert "employee assistance programme" in professional and "Cruse" not in professional
    assert "disciplinary" in professional and "disciplinary" not in family


def test_three_separate_questions_only_taking_part_required() -> None:
    texts = consent_texts("professional")

    assert [q.key for q in texts.questions] == ["take_part", "quote", "anonymised_publication"]
    assert [q.required for q in texts.questions] == [True, False, False]
    assert "by your role" in texts.question("quote").text
    assert all(len(q.yes_label) <= 40 and len(q.no_label) <= 40 for q in texts.questions)


def test_consent_hash_follows_the_words_shown() -> None:
    plain, filled = consent_texts("family"), consent_texts("family", CASE)

    assert plain.hash == consent_texts("family").hash
    assert plain.hash != filled.hash
    assert plain.hash != consent_texts("professional").hash
    assert plain.ref == f"consent-family@1#{plain.hash[:12]}"


def test_choices_record_the_texts_and_refuse_quotes_without_taking_part() -> None:
    texts = consent_texts("family")

    choices = ConsentChoices.decide(
        texts, take_part=True, quote=False, anonymised_publication=True, at=AT
    )
    assert choices.consent_hash == texts.hash
    assert ConsentChoices.model_validate_json(choices.model_dump_json()) == choices

    with pytest.raises(ConsentError):
        ConsentChoices.decide(
            texts, take_part=False, quote=True, anonymised_publication=False, at=AT
        )
    with pytest.raises(ValidationError):
        ConsentChoices(
            take_part=False,
            quote=False,
            anonymised_publication=True,
            consent_ref=texts.ref,
            consent_hash=texts.hash,
            decided_at=AT,
        )
