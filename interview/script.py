"""Interview scripts: YAML files validated into frozen pydantic models, versioned by content hash.

A script is data. ``load_script`` reports every mistake with its ``file:line:col`` so the person
writing a case's own script can fix them all in one go.

Decisions worth knowing:

* ``required`` prompts can be paused but never skipped (the engine refuses). A section with a
  ``content_note`` offers "skip this section", so it may not contain required prompts.
* ``show_if`` may only point at an *earlier* ``choice`` prompt, so visibility is decided in one
  pass in script order and a hidden prompt can never hide the prompt that controls it.
* ``multiple: true`` (choice prompts only) lets the participant pick several values;
  ``show_if`` matches when any picked value is listed.
* Text is stripped at both ends, so ``text: x`` and a ``|`` block holding ``x`` hash the same.
* ``field: job_title`` (or ``agency``) on a free prompt files its answer as that structured fact
  about the participant too, so the statement carries it apart from the free text.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from interview.errors import ScriptError, ScriptProblem
from interview.yamlsource import Loc, YamlDocument, duplicate_keys, loc_to_str, parse_yaml

ScriptId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
# Prompt ids and choice values travel in Telegram callback data (64 bytes), so keep them short.
PromptId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
ChoiceValue = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=20)]
Audience = Literal["family", "professional"]
PromptKind = Literal["free", "choice", "date"]
# Structured facts a prompt's answer can supply about the participant (statement ``fields``).
ProfileField = Literal["job_title", "agency"]

MAX_PROMPT_TEXT = 1000
MAX_BUTTON_LABEL = 40


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True
    )


class Choice(_Strict):
    value: ChoiceValue
    label: Annotated[str, Field(min_length=1, max_length=MAX_BUTTON_LABEL)]


class ShowIf(_Strict):
    prompt: PromptId
    in_: Annotated[tuple[ChoiceValue, ...], Field(alias="in", min_length=1)]


class Prompt(_Strict):
    id: PromptId
    kind: PromptKind
    text: Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_TEXT)]
    help: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    required: bool = False
    choices: tuple[Choice, ...] = ()
    multiple: bool = False
    show_if: ShowIf | None = None
    allow_voice: bool = True
    chronology: bool = False
    field: ProfileField | None = None

    def label_of(self, value: str) -> str:
        return next((c.label for c in self.choices if c.value == value), value)


class Section(_Strict):
    id: PromptId
    title: Annotated[str, Field(min_length=1, max_length=100)]
    content_note: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    prompts: Annotated[tuple[Prompt, ...], Field(min_length=1)]


class InterviewScript(_Strict):
    id: ScriptId
    version: PositiveInt
    title: Annotated[str, Field(min_length=1, max_length=100)]
    audience: Audience
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] = "en"
    intro: Annotated[str, Field(min_length=1, max_length=3000)] | None = None
    sections: Annotated[tuple[Section, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> InterviewScript:
        # load_script defers these so it can report each one at its own line.
        if not (isinstance(info.context, dict) and info.context.get("defer_checks")):
            problems = cross_check(self)
            if problems:
                raise ValueError("; ".join(f"{loc_to_str(loc)}: {msg}" for loc, msg in problems))
        return self

    @property
    def prompts(self) -> tuple[Prompt, ...]:
        return tuple(p for s in self.sections for p in s.prompts)

    def prompt(self, prompt_id: str) -> Prompt:
        for p in self.prompts:
            if p.id == prompt_id:
                return p
        raise KeyError(prompt_id)

    @cached_property
    def canonical_json(self) -> str:
        """The validated script as canonical JSON: what is hashed, and what the reviewer gets."""
        data = self.model_dump(mode="json", by_alias=True)
        for section in data["sections"]:
            for prompt in section["prompts"]:
                # Keys added after scripts were in use are left out while unset, so a script
                # written before them keeps its hash (running interviews name it by hash).
                if prompt.get("field") is None:
                    prompt.pop("field", None)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the validated script's canonical JSON: layout and comments don't count."""
        return hashlib.sha256(self.canonical_json.encode("utf-8")).hexdigest()

    def paragraph_of(self, prompt_id: str) -> int:
        """The prompt's fixed position (1…) in the whole script, whatever the branches show.

        Citable references use it, so they never shift with a participant's choices.
        """
        for number, prompt in enumerate(self.prompts, start=1):
            if prompt.id == prompt_id:
                return number
        raise KeyError(prompt_id)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}#{self.content_hash[:12]}"


def cross_check(script: InterviewScript) -> list[tuple[Loc, str]]:
    """Rules spanning fields or prompts, each with the location it concerns."""
    problems: list[tuple[Loc, str]] = []
    earlier: dict[str, Prompt] = {}
    section_ids: set[str] = set()
    fields: set[str] = set()
    for si, section in enumerate(script.sections):
        if section.id in section_ids:
            problems.append((("sections", si, "id"), f"duplicate section id {section.id!r}"))
        section_ids.add(section.id)
        for pi, prompt in enumerate(section.prompts):
            at: Loc = ("sections", si, "prompts", pi)
            problems.extend(((*at, *loc), msg) for loc, msg in _prompt_problems(prompt, earlier))
            if section.content_note and prompt.required:
                problems.append(
                    (
                        (*at, "required"),
                        "a section with a content_note can be skipped whole, "
                        "so it may not hold required prompts",
                    )
                )
            if prompt.id in earlier:
                problems.append(((*at, "id"), f"duplicate prompt id {prompt.id!r}"))
            if prompt.field is not None:
                if prompt.field in fields:
                    problems.append(((*at, "field"), f"field {prompt.field!r} is asked twice"))
                fields.add(prompt.field)
            earlier.setdefault(prompt.id, prompt)
    return problems


def _prompt_problems(prompt: Prompt, earlier: dict[str, Prompt]) -> list[tuple[Loc, str]]:
    out: list[tuple[Loc, str]] = []
    if prompt.kind == "choice":
        if not 2 <= len(prompt.choices) <= 8:
            out.append((("choices",), "a choice prompt needs between 2 and 8 choices"))
        values = [c.value for c in prompt.choices]
        for ci, value in enumerate(values):
            if value in values[:ci]:
                out.append((("choices", ci, "value"), f"duplicate choice value {value!r}"))
    else:
        if prompt.choices:
            out.append((("choices",), f"only choice prompts have choices (kind is {prompt.kind})"))
        if prompt.multiple:
            out.append((("multiple",), "only choice prompts can allow several answers"))
    if prompt.chronology and prompt.kind != "date":
        out.append((("chronology",), "chronology is only for date prompts"))
    if prompt.field is not None and prompt.kind != "free":
        out.append((("field",), "a field is only filled from a free prompt"))
    if prompt.show_if is not None:
        target = earlier.get(prompt.show_if.prompt)
        if target is None:
            out.append(
                (
                    ("show_if", "prompt"),
                    f"show_if refers to {prompt.show_if.prompt!r}, which is not an earlier prompt",
                )
            )
        elif target.kind != "choice":
            out.append(
                (
                    ("show_if", "prompt"),
                    f"show_if refers to {target.id!r}, which is not a choice prompt",
                )
            )
        else:
            known = {c.value for c in target.choices}
            for vi, value in enumerate(prompt.show_if.in_):
                if value not in known:
                    out.append((("show_if", "in", vi), f"{target.id!r} has no choice {value!r}"))
    return out


def load_script(source: str | Path, *, name: str | None = None) -> InterviewScript:
    """Load and validate a script from a path or from YAML text.

    A ``Path``, or a one-line ``str`` ending in ``.yaml``/``.yml``, is read as a file; any other
    ``str`` is the YAML itself. ``name`` is used in messages (defaults to the path or ``<script>``).
    Raises ``ScriptError`` listing every problem as ``name:line:col: message``.
    """
    if isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml")):
        source = Path(source)
    if isinstance(source, Path):
        return _load_text(source.read_text(encoding="utf-8"), name or str(source))
    return _load_text(source, name or "<script>")


def _load_text(text: str, name: str) -> InterviewScript:
    try:
        doc = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = ScriptProblem(name, line, col, f"not valid YAML: {exc.problem}")
        raise ScriptError([problem]) from None
    except yaml.YAMLError as exc:
        raise ScriptError([ScriptProblem(name, None, None, f"not valid YAML: {exc}")]) from None
    if doc is None or not isinstance(doc.data, dict):
        line = doc.root.start_mark.line + 1 if doc else 1
        raise ScriptError([ScriptProblem(name, line, 1, "a script must be a mapping of keys")])
    problems = [
        ScriptProblem(name, pos.line, pos.col, f"duplicate key {key!r}")
        for pos, key in duplicate_keys(doc.root)
    ]
    try:
        script = InterviewScript.model_validate(doc.data, context={"defer_checks": True})
    except ValidationError as exc:
        problems.extend(_from_pydantic(exc, doc, name))
        raise ScriptError(_sorted(problems)) from None
    for loc, msg in cross_check(script):
        pos = doc.position(loc)
        problems.append(ScriptProblem(name, pos.line, pos.col, f"{loc_to_str(loc)}: {msg}"))
    if problems:
        raise ScriptError(_sorted(problems))
    return script


def _from_pydantic(exc: ValidationError, doc: YamlDocument, name: str) -> list[ScriptProblem]:
    out = []
    errors = exc.errors(include_url=False)
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(
            len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc
            for other in errors
        ):
            continue  # a list whose items all failed is not also "too short"
        pos = doc.position(loc, at_key=err["type"] == "extra_forbidden")
        where = loc_to_str(loc) or "script"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        out.append(ScriptProblem(name, pos.line, pos.col, f"{where}: {msg}"))
    return out


def _sorted(problems: list[ScriptProblem]) -> list[ScriptProblem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.col or 0))


def list_builtin_scripts() -> list[str]:
    """Names of the scripts shipped in ``interview/scripts`` (for ``builtin_script``)."""
    folder = resources.files("interview").joinpath("scripts")
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_script(name: str) -> InterviewScript:
    """A shipped script by name, e.g. ``"family"`` or ``"professional"``."""
    if name not in list_builtin_scripts():
        raise ScriptError([ScriptProblem(name, None, None, "no built-in script of this name")])
    text = resources.files("interview").joinpath("scripts", f"{name}.yaml").read_text("utf-8")
    return _load_text(text, f"interview/scripts/{name}.yaml")
