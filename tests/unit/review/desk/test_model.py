"""Statements sealed before the desk's fields existed still read, render and cite."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document

from review.desk.model import parse_statement
from review.desk.statement_docx import statement_docx
from review.desk.words import item_ref
from storage.evidence.errors import PackageError

OLD = {
    "format": "casevoice.statement/1",
    "script_ref": "family@1#925c41b63f89",
    "script_id": "family",
    "script_version": 1,
    "script_hash": "9" * 64,
    "title": "Your experience",
    "audience": "family",
    "language": "en",
    "meta": {
        "case_id": "LCSPR-1",
        "participant_id": "F-03",
        "interview_id": "i",
        "role": "family",
        "assembled_at": "2025-03-01T12:00:00Z",
    },
    "consent": {
        "take_part": True,
        "quote": True,
        "anonymised_publication": False,
        "consent_ref": "consent-family@1#abc",
        "consent_hash": "a" * 64,
        "decided_at": "2025-03-01T12:00:00Z",
    },
    "sections": [
        {
            "id": "s",
            "title": "About you",
            "items": [
                {
                    "number": 2,
                    "prompt_id": "p",
                    "kind": "free",
                    "prompt_text": "Tell us <about> it",
                    "status": "answered",
                    "parts": [
                        {
                            "kind": "text",
                            "text": "It was <fine> & *ok*",
                            "versions": [
                                {
                                    "text": "It was <fine> & *ok*",
                                    "source": "typed",
                                    "author": "participant",
                                    "at": "2025-03-01T12:00:00Z",
                                }
                            ],
                            "received_at": "2025-03-01T12:00:00Z",
                        }
                    ],
                }
            ],
        }
    ],
}


def test_an_old_statement_reads_cites_by_read_back_number_and_renders() -> None:
    statement = parse_statement(json.dumps(OLD).encode())

    assert item_ref(statement.code, statement.items[0]) == "F-03 ¶2"
    assert statement.consent_wording is None and not statement.wording_verified
    doc = Document(io.BytesIO(statement_docx(statement, {"statement_id": "s1"})))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "F-03 ¶2.1  It was <fine> & *ok*" in text  # as typed: no Markdown escapes
    assert "sealed before the wording travelled with it" in text


def test_a_wording_that_does_not_hash_to_the_consent_record_is_not_verified() -> None:
    changed = {
        **OLD,
        "consent_wording": {
            "version": 1,
            "audience": "family",
            "intro": ["Hello"],
            "tell_me_more": [],
            "questions": [],
            "not_now": "",
            "declined": "",
        },
    }
    statement = parse_statement(json.dumps(changed).encode())
    assert statement.consent_wording is not None and not statement.wording_verified


@pytest.mark.parametrize("data", [b"{}", b"not json", json.dumps({"answers": ["x"]}).encode()])
def test_other_content_is_refused(data: bytes) -> None:
    with pytest.raises(PackageError):
        parse_statement(data)


def test_control_characters_in_answers_do_not_stop_the_word_file() -> None:
    odd = json.loads(json.dumps(OLD))
    odd["sections"][0]["items"][0]["parts"][0]["text"] = "bell\x07 and nul\x00"
    odd["sections"][0]["items"][0]["parts"][0]["versions"][0]["text"] = "bell\x07 and nul\x00"

    statement = parse_statement(json.dumps(odd).encode())
    doc = Document(io.BytesIO(statement_docx(statement, {})))

    assert any("bell\ufffd and nul\ufffd" in p.text for p in doc.paragraphs)
