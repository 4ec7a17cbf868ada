from __future__ import annotations

import pytest

from interview.answers import PromptAnswer
from interview.chunks import pack_blocks, split_text
from interview.render import READBACK_LIMIT, render_readback
from interview.script import InterviewScript, builtin_script
from interview.statement import assemble_statement
from tests.unit.interview.conftest import consent, meta, text_answer, voice


def test_short_readback_is_one_numbered_message(small: InterviewScript) -> None:
    answers = {
        "role": text_answer("role", "Teacher"),
        "hard_a": PromptAnswer(prompt_id="hard_a", parts=(voice("Yes it was hard"),)),
        "last": PromptAnswer(prompt_id="last", skipped=True),
    }

    chunks = render_readback(assemble_statement(small, answers, consent(), meta()))

    assert len(chunks) == 1
    text = chunks[0]
    assert text.splitlines()[0] == "Your answers (part 1 of 1)"
    assert "1. What was your role?\nTeacher" in text
    assert "Yes it was hard\n(voice note, transcribed)" in text
    assert "5. Anything else?\nSkipped" in text
    assert text.endswith("To change an answer, send its number.")


def test_long_readback_is_split_into_telegram_sized_parts() -> None:
    script = builtin_script("family")
    long = "This is a long answer about what happened. " * 120  # ~5,000 characters
    answers = {p.id: text_answer(p.id, long) for p in script.prompts if p.kind == "free"}

    chunks = render_readback(assemble_statement(script, answers, consent(), meta()))

    assert len(chunks) > 5
    assert all(len(c) <= READBACK_LIMIT for c in chunks)
    assert [c.splitlines()[0] for c in chunks] == [
        f"Your answers (part {i} of {len(chunks)})" for i in range(1, len(chunks) + 1)
    ]
    joined = "\n".join(chunks)
    for number in (1, 2, 10):
        assert f"\n{number}. " in joined


@pytest.mark.parametrize("limit", [5, 17, 100])
def test_split_text_keeps_every_word_within_the_limit(limit: int) -> None:
    text = "one two three\n\nfour five six seven\neight nine ten " + "x" * 30

    parts = split_text(text, limit)

    assert all(len(p) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_pack_blocks_joins_small_blocks_and_numbers_parts() -> None:
    packed = pack_blocks(
        ["a" * 10, "b" * 10, "c" * 10], limit=40, header=lambda i, n: f"Part {i}/{n}"
    )

    assert packed == [
        "Part 1/2\n\n" + "a" * 10 + "\n\n" + "b" * 10,
        "Part 2/2\n\n" + "c" * 10,
    ]
