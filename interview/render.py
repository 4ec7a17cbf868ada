"""Writing a statement out: ``statement.md`` for the reviewer, read-back messages for the person.

Participant text is escaped in Markdown so it can never become headings, links or HTML in the
reviewer's viewer. The read-back is plain text (send without a parse mode).
"""

from __future__ import annotations

import re

from interview import texts as T
from interview.answers import AnswerPart
from interview.chunks import pack_blocks
from interview.statement import Statement, StatementItem

READBACK_LIMIT = 3500
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!~])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def voice_note(part: AnswerPart) -> str | None:
    """The provenance note shown after a part, if any."""
    if part.kind != "voice":
        return None
    return T.VOICE_CORRECTED if part.corrected else T.VOICE_TRANSCRIBED


def _yes_no(flag: bool) -> str:
    return T.YES if flag else T.NO


def render_markdown(statement: Statement) -> str:
    meta, consent = statement.meta, statement.consent
    lines = [
        f"# {md_escape(statement.title)}",
        "",
        f"- {T.MD_SCRIPT}: `{statement.script_ref}`",
        f"- {T.MD_CASE}: {md_escape(meta.case_id)}",
        f"- {T.MD_PARTICIPANT}: {md_escape(meta.participant_id)}",
    ]
    for name, value in (
        (T.MD_LABEL, meta.label),
        (T.MD_ROLE, meta.role),
        (T.MD_JOB_TITLE, meta.job_title),
        (T.MD_AGENCY, meta.agency),
    ):
        if value:
            lines.append(f"- {name}: {md_escape(_one_line(value))}")
    lines += [
        f"- {T.MD_ASSEMBLED}: {meta.assembled_at.isoformat()}",
        f"- {T.MD_CONSENT} (`{consent.consent_ref}`): "
        f"{T.MD_CONSENT_TAKE_PART}: {_yes_no(consent.take_part)}; "
        f"{T.MD_CONSENT_QUOTE}: {_yes_no(consent.quote)}; "
        f"{T.MD_CONSENT_PUBLISH}: {_yes_no(consent.anonymised_publication)}",
    ]
    for section in statement.sections:
        lines += ["", f"## {md_escape(section.title)}"]
        for item in section.items:
            lines += ["", f"### {item.number}. {md_escape(_one_line(item.prompt_text))}", ""]
            if item.not_for_quoting:
                lines += [f"_{T.MD_NOT_FOR_QUOTING}_", ""]
            lines += _md_answer(item)
    return "\n".join(lines) + "\n"


def _md_quote(text: str) -> list[str]:
    return [f"> {md_escape(line)}".rstrip() for line in text.splitlines() or [""]]


def _md_parts(parts: tuple[AnswerPart, ...]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if out:
            out.append(">")
        out += _md_quote(part.text)
        note = voice_note(part)
        if note:
            out += [">", f"> _{md_escape(note)}_"]
    return out


def _md_answer(item: StatementItem) -> list[str]:
    if item.status != "answered":
        return [f"_{T.SKIPPED if item.status == 'skipped' else T.NOT_ANSWERED}_"]
    out: list[str] = []
    if item.chosen:
        out.append(f"{T.CHOSE}: " + ", ".join(md_escape(c.label) for c in item.chosen))
    if item.parts:
        out += ([""] if out else []) + _md_parts(item.parts)
    for event in item.events:
        out += ([""] if out else []) + [f"**{md_escape(_one_line(event.when))}**", ""]
        out += _md_parts(event.parts)
    return out


def _plain_answer(item: StatementItem) -> list[str]:
    if item.status != "answered":
        return [T.SKIPPED if item.status == "skipped" else T.NOT_ANSWERED]
    out: list[str] = []
    if item.chosen:
        out.append(f"{T.CHOSE}: " + ", ".join(c.label for c in item.chosen))
    for part in item.parts:
        out.append(part.text)
        note = voice_note(part)
        if note:
            out.append(note)
    for event in item.events:
        out.append(f"• {_one_line(event.when)}")
        for part in event.parts:
            out.append(part.text)
            note = voice_note(part)
            if note:
                out.append(note)
    return out


def render_readback(
    statement: Statement, limit: int = READBACK_LIMIT, *, edit_hint: bool = True
) -> list[str]:
    """The whole statement as numbered plain-text messages of at most ``limit`` characters.

    Every message starts with a neutral "Your answers (part i of n)" line (notification previews).
    """
    blocks: list[str] = []
    for section in statement.sections:
        for index, item in enumerate(section.items):
            head = [f"— {section.title} —"] if index == 0 else []
            lines = [*head, f"{item.number}. {_one_line(item.prompt_text)}", *_plain_answer(item)]
            blocks.append("\n".join(lines))
    if not blocks:
        blocks.append(T.READBACK_EMPTY)
    elif edit_hint:
        blocks.append(T.READBACK_EDIT_HINT)

    def header(part: int, parts: int) -> str:
        return T.READBACK_HEADER.format(part=part, parts=parts)

    return pack_blocks(blocks, limit, header)
