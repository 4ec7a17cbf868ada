from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from interview.errors import ScriptError
from interview.script import (
    InterviewScript,
    builtin_script,
    list_builtin_scripts,
    load_script,
)
from tests.unit.interview.conftest import SMALL


@pytest.mark.parametrize("name", ["family", "professional"])
def test_shipped_scripts_validate(name: str) -> None:
    script = builtin_script(name)

    assert script.audience == name
    assert script.ref == f"{name}@{script.version}#{script.content_hash[:12]}"
    assert len(script.content_hash) == 64
    assert any(s.content_note for s in script.sections)
    assert any(p.show_if for p in script.prompts)


def test_builtin_list_and_unknown_name() -> None:
    assert list_builtin_scripts() == ["family", "professional"]
    with pytest.raises(ScriptError):
        builtin_script("nope")


def test_professional_script_has_dated_contacts_and_no_should_have() -> None:
    script = builtin_script("professional")

    assert any(p.kind == "date" and p.chronology for p in script.prompts)
    assert script.prompt("job_title").required and script.prompt("job_title").field == "job_title"
    assert script.prompt("agency").required and script.prompt("agency").field == "agency"
    assert all("should have" not in p.text.lower() for p in script.prompts)


def test_family_script_never_requires_an_answer_and_asks_for_a_name() -> None:
    script = builtin_script("family")

    assert not any(p.required for p in script.prompts)
    assert "name" in script.prompt("child_name").text


def test_hash_is_stable_across_layout_and_comments() -> None:
    # Given the same content written as block YAML with comments, and as one line of flow YAML
    original = builtin_script("professional")
    reflowed = yaml.safe_dump(
        original.model_dump(by_alias=True), default_flow_style=True, width=10_000
    )
    commented = (
        Path("interview/scripts/professional.yaml")
        .read_text()
        .replace("sections:", "# a comment\nsections:   # another\n")
    )

    # Then the hash does not change
    assert load_script(reflowed).content_hash == original.content_hash
    assert load_script(commented).content_hash == original.content_hash


def test_hash_changes_with_content() -> None:
    original = load_script(SMALL)
    changed = load_script(SMALL.replace("Anything else?", "Anything more?"))

    assert changed.content_hash != original.content_hash
    assert changed.ref != original.ref


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)

    assert load_script(path).id == "small"
    assert load_script(str(path)).id == "small"


BROKEN = """\
id: broken
version: 1
title: Broken
audience: family
sections:
  - id: one
    title: One
    prompts:
      - id: a
        kind: free
        text: Fine?
        colour: blue
      - id: b
        kind: free
        text: Shown if?
        show_if: {prompt: c, in: [x]}
      - id: c
        kind: choice
        text: Pick one
        choices:
          - {value: x, label: X}
      - id: a
        kind: free
        text: Duplicate id
  - id: two
    title: Empty
    prompts: []
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ScriptError) as caught:
        load_script(text, name="broken.yaml")
    return [str(p) for p in caught.value.problems]


def test_structure_errors_are_line_precise() -> None:
    problems = _problems(BROKEN)

    assert "broken.yaml:12:9: sections[0].prompts[0].colour: unknown key" in problems
    assert any(p.startswith("broken.yaml:27:5: sections[1].prompts:") for p in problems)
    assert len(problems) == 2  # cross-checks wait until the structure is sound


def test_cross_reference_errors_are_line_precise() -> None:
    text = BROKEN.replace("        colour: blue\n", "").replace(
        "    prompts: []", "    prompts:\n      - {id: z, kind: free, text: Z}"
    )

    problems = _problems(text)

    assert problems == [
        "broken.yaml:15:27: sections[0].prompts[1].show_if.prompt: show_if refers to 'c', "
        "which is not an earlier prompt",
        "broken.yaml:19:9: sections[0].prompts[2].choices: "
        "a choice prompt needs between 2 and 8 choices",
        "broken.yaml:21:13: sections[0].prompts[3].id: duplicate prompt id 'a'",
    ]


def test_show_if_to_unknown_value_or_non_choice_prompt() -> None:
    bad_value = SMALL.replace("in: [police]", "in: [polis]")
    non_choice = SMALL.replace("{prompt: services, in: [school]}", "{prompt: role, in: [x]}")

    assert any("has no choice 'polis'" in p for p in _problems(bad_value))
    assert any("'role', which is not a choice prompt" in p for p in _problems(non_choice))


def test_long_text_not_a_mapping_bad_yaml_and_duplicate_keys() -> None:
    long_text = SMALL.replace("text: Anything else?", "text: " + "x" * 1001)

    assert any(":45:" in p and "at most 1000" in p for p in _problems(long_text))
    assert _problems("- just\n- a list\n") == [
        "broken.yaml:1:1: a script must be a mapping of keys"
    ]
    assert _problems("id: [unclosed\n")[0].startswith("broken.yaml:2:1: not valid YAML")
    assert "broken.yaml:2:1: duplicate key 'id'" in _problems("id: a\nid: b\n")


def test_required_prompt_in_a_skippable_section_is_refused() -> None:
    text = SMALL.replace("text: Hard question A?", "text: Hard?\n        required: true")

    assert any("may not hold required prompts" in p for p in _problems(text))


def test_cross_checks_also_apply_without_the_loader() -> None:
    data = yaml.safe_load(SMALL.replace("in: [police]", "in: [polis]"))

    with pytest.raises(ValidationError, match="has no choice 'polis'"):
        InterviewScript.model_validate(data)


def test_a_field_only_on_free_prompts_and_once_per_script() -> None:
    with pytest.raises(ScriptError) as caught:
        load_script(
            """\
id: bad-fields
version: 1
title: Bad
audience: professional
sections:
  - id: one
    title: One
    prompts:
      - {id: a, kind: free, text: "Job?", field: job_title}
      - {id: b, kind: free, text: "Job again?", field: job_title}
      - id: c
        kind: choice
        text: "Agency?"
        field: agency
        choices: [{value: x, label: X}, {value: y, label: Y}]
""",
            name="bad.yaml",
        )
    text = str(caught.value)
    assert "field 'job_title' is asked twice" in text
    assert "a field is only filled from a free prompt" in text


def test_paragraphs_are_fixed_positions_and_old_scripts_keep_their_hash() -> None:
    script = builtin_script("family")

    assert script.paragraph_of(script.prompts[0].id) == 1
    assert script.paragraph_of("police_experience") == 10  # hidden or not, its place is fixed
    # A script written before ``field`` existed hashes as it did then (running interviews
    # name their script by this hash)
    assert script.content_hash.startswith("925c41b63f89")
    assert '"field"' not in script.canonical_json
