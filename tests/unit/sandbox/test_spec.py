"""The specification check: structure from api.json, limits from the prose."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from sandbox.spec import ApiSpec, Upload, bundled_api_json


def _button(**fields: object) -> dict[str, object]:
    return {"inline_keyboard": [[{"text": "Skip", **fields}]]}


def test_a_well_formed_send_message_passes(spec: ApiSpec) -> None:
    params = {
        "chat_id": 1,
        "text": "Hello",
        "protect_content": True,
        "reply_markup": _button(callback_data="skip"),
    }
    assert spec.validate_method("sendMessage", params) == []


def test_missing_required_field_is_named(spec: ApiSpec) -> None:
    assert spec.validate_method("sendMessage", {"chat_id": 1}) == [
        "required parameter 'text' is missing"
    ]


def test_wrong_type_and_unknown_parameter_are_reported(spec: ApiSpec) -> None:
    errors = spec.validate_method("sendMessage", {"chat_id": 1.5, "text": "x", "colour": "red"})
    assert "unknown parameter 'colour'" in errors
    assert any("chat_id: expected Integer or String" in e for e in errors)


def test_union_integer_or_string_accepts_both(spec: ApiSpec) -> None:
    assert spec.validate_method("getChat", {"chat_id": "@somechannel"}) == []
    assert spec.validate_method("getChat", {"chat_id": -100}) == []
    assert spec.validate_method("getChat", {"chat_id": True}) != []


def test_nested_keyboard_is_checked_recursively(spec: ApiSpec) -> None:
    markup = {"inline_keyboard": [[{"text": "Skip", "callback_data": "s", "colour": 1}]]}
    errors = spec.validate_method(
        "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup}
    )
    assert any("unknown field 'colour'" in e for e in errors)


def test_callback_data_over_64_bytes_is_refused(spec: ApiSpec) -> None:
    # 22 three-byte characters: 22 characters but 66 bytes.
    markup = _button(callback_data="€" * 22)
    errors = spec.validate_method(
        "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup}
    )
    assert any("callback_data must be 1-64 bytes, got 66" in e for e in errors)
    ok = _button(callback_data="x" * 64)
    assert (
        spec.validate_method("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": ok}) == []
    )


def test_button_needs_exactly_one_action(spec: ApiSpec) -> None:
    errors = spec.validate_method(
        "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": _button()}
    )
    assert any("exactly one action field" in e for e in errors)


def test_text_limit_counts_characters_after_entity_parsing(spec: ApiSpec) -> None:
    assert spec.validate_method("sendMessage", {"chat_id": 1, "text": "a" * 4096}) == []
    too_long = spec.validate_method("sendMessage", {"chat_id": 1, "text": "a" * 4097})
    assert any("too long: 4097" in e for e in too_long)
    tagged = {"chat_id": 1, "text": "<b>" + "a" * 4096 + "</b>", "parse_mode": "HTML"}
    assert spec.validate_method("sendMessage", tagged) == []


@pytest.mark.parametrize(
    ("text", "mode", "fragment"),
    [
        ("score < 5", "HTML", "can't find end of the tag"),
        ("a <3 b>", "HTML", "unsupported start tag"),
        ("<b>bold", "HTML", "can't find end tag"),
        ("<blink>x</blink>", "HTML", "unsupported start tag"),
        ("Thank you.", "MarkdownV2", "reserved"),
        ("hi", "Markup", "unsupported parse_mode"),
    ],
)
def test_malformed_markup_is_refused(spec: ApiSpec, text: str, mode: str, fragment: str) -> None:
    errors = spec.validate_method("sendMessage", {"chat_id": 1, "text": text, "parse_mode": mode})
    assert any(fragment in e for e in errors), errors


def test_well_formed_markup_passes(spec: ApiSpec) -> None:
    html = {"chat_id": 1, "text": "a &lt; b <i>x</i> &amp; <a href='u'>y</a>", "parse_mode": "HTML"}
    md = {"chat_id": 1, "text": r"*Thanks*\. See [here](http://x\.y)\!", "parse_mode": "MarkdownV2"}
    assert spec.validate_method("sendMessage", html) == []
    assert spec.validate_method("sendMessage", md) == []


def test_callback_answer_text_limit(spec: ApiSpec) -> None:
    errors = spec.validate_method(
        "answerCallbackQuery", {"callback_query_id": "1", "text": "x" * 201}
    )
    assert errors == ["text must be 0-200 characters, got 201"]


def test_form_strings_are_coerced_by_declared_type(spec: ApiSpec) -> None:
    raw = {
        "chat_id": "42",
        "text": "123",
        "protect_content": "true",
        "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}',
    }
    params = spec.coerce_form("sendMessage", raw)
    assert params["chat_id"] == 42
    assert params["text"] == "123"  # a String field stays a string even when it looks numeric
    assert params["protect_content"] is True
    assert params["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"
    assert spec.validate_method("sendMessage", params) == []


def test_input_file_accepts_an_upload(spec: ApiSpec) -> None:
    upload = Upload("a.txt", "text/plain", b"hi")
    assert spec.validate_method("sendDocument", {"chat_id": 1, "document": upload}) == []
    assert spec.validate_method("sendDocument", {"chat_id": 1, "document": 5}) != []


def test_subtype_discriminator_is_checked(spec: ApiSpec) -> None:
    good = {
        "commands": [{"command": "start", "description": "Begin"}],
        "scope": {"type": "default"},
    }
    bad = {"commands": [{"command": "Start!", "description": "Begin"}], "scope": {"type": "nope"}}
    assert spec.validate_method("setMyCommands", good) == []
    errors = spec.validate_method("setMyCommands", bad)
    assert any("command must be 1-32" in e for e in errors)
    assert any("scope" in e for e in errors)


def test_method_names_are_case_insensitive(spec: ApiSpec) -> None:
    assert spec.canonical_method("SENDMESSAGE") == "sendMessage"
    assert spec.canonical_method("sendTelepathy") is None


def test_the_bundled_specification_is_bot_api_10_1_with_its_licence() -> None:
    data = files("sandbox") / "spec_data"

    assert bundled_api_json().is_file()
    assert ApiSpec.load().version == "Bot API 10.1"
    assert "MIT License" in (data / "LICENSE").read_text(encoding="utf-8")
    assert "PaulSonOfLars/telegram-bot-api-spec" in (data / "README.md").read_text(encoding="utf-8")


def test_an_explicit_api_json_path_is_loaded_instead(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps({"version": "Bot API 99.0", "methods": {}, "types": {}}))

    assert ApiSpec.load(path).version == "Bot API 99.0"
    with pytest.raises(FileNotFoundError):
        ApiSpec.load(tmp_path / "missing.json")
