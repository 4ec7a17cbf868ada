"""``casevoice case …`` and ``casevoice invite create``."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bot.cli_support import emit_json, fail, out, parse_date, with_container
from bot.container import Container, signer_fingerprint
from bot.telegram_info import resolve_bot_username
from interview.script import load_script
from interview.services.cases import ROLES, CaseScriptInput, CaseSummary
from storage.errors import CaseVoiceError
from storage.files import atomic_write

case_app = typer.Typer(help="Cases (one review each).", no_args_is_help=True)
invite_app = typer.Typer(help="Single-use invite links.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _scripts(values: list[str]) -> list[CaseScriptInput]:
    scripts = []
    for value in values:
        role, sep, path = value.partition("=")
        if not sep or role not in ROLES:
            fail(f"--script: {value!r} must look like family=FILE or professional=FILE")
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"--script {role}: cannot read {file} ({exc.strerror})")
        try:
            script = load_script(text, name=str(file))
        except CaseVoiceError as exc:
            fail(f"--script {role}: {exc}")
        if script.audience != role:
            fail(f"--script {role}: {file} is written for {script.audience} participants")
        scripts.append(CaseScriptInput(role=role, script=script, source_text=text))
    return scripts


def _recipients(values: list[str]) -> list[str]:
    from storage.evidence.keys import parse_recipient

    try:
        return [parse_recipient(value) for value in values]
    except CaseVoiceError as exc:
        fail(f"--recipient: {exc}")


@case_app.command("create")
def case_create(
    ref: Annotated[str, typer.Argument(help="Case reference, e.g. LCSPR-2026-04")],
    recipient: Annotated[list[str], typer.Option(help="Reviewer age recipient (age1…)")],
    title: Annotated[str | None, typer.Option(help="Title (stored encrypted)")] = None,
    deadline: Annotated[str | None, typer.Option(help="Review deadline, YYYY-MM-DD")] = None,
    withdraw_until: Annotated[
        str | None, typer.Option(help="Last day a participant may withdraw (default: the deadline)")
    ] = None,
    script: Annotated[
        list[str] | None, typer.Option(help="A case's own script: family=FILE or professional=FILE")
    ] = None,
    delete_answers: Annotated[
        bool, typer.Option(help="Delete answers from the participant's chat once stored")
    ] = False,
    include_audio: Annotated[
        bool, typer.Option(help="Seal the original voice notes with the statement")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Open a case for one review, sealed to one or more reviewer keys."""
    recipients = _recipients(recipient)
    deadline_date = parse_date(deadline, "--deadline")
    withdraw_date = parse_date(withdraw_until, "--withdraw-until")
    scripts = _scripts(script or [])

    async def body(container: Container) -> dict[str, object]:
        case = await container.cases.create(
            ref,
            recipients,
            title=title,
            deadline=deadline_date,
            withdraw_until=withdraw_date,
            scripts=scripts,
            delete_answers_from_chat=delete_answers,
            include_audio=include_audio,
        )
        return {
            "ref": case.ref,
            "id": case.id,
            "recipients": len(recipients),
            "deadline": case.deadline,
            "withdraw_until": case.withdraw_until,
        }

    result = with_container(body)
    if json_output:
        emit_json(result)
    else:
        out.print(f"case {ref} created with {len(recipients)} reviewer recipient(s)", markup=False)


@case_app.command("list")
def case_list(json_output: JsonOpt = False) -> None:
    """Every case, with its participant count."""

    async def body(container: Container) -> list[dict[str, object]]:
        return [
            {
                "ref": case.ref,
                "status": case.status,
                "deadline": case.deadline,
                "participants": n,
                "created_at": case.created_at,
            }
            for case, n in await container.cases.list()
        ]

    rows = with_container(body)
    if json_output:
        emit_json(rows)
        return
    table = Table("case", "status", "deadline", "participants", "created")
    for row in rows:
        table.add_row(
            str(row["ref"]),
            str(row["status"]),
            str(row["deadline"] or "-"),
            str(row["participants"]),
            str(row["created_at"])[:16],
        )
    out.print(table)


@case_app.command("show")
def case_show(ref: str, json_output: JsonOpt = False) -> None:
    """Progress per participant and the bot's signer fingerprint (for the reviewer). No content."""

    async def body(container: Container) -> tuple[CaseSummary, str]:
        summary = await container.cases.summary(ref)
        return summary, signer_fingerprint(container.settings)

    summary, signer = with_container(body)
    if json_output:
        emit_json(
            {
                "ref": summary.ref,
                "signer_fingerprint": signer,
                "status": summary.status,
                "deadline": summary.deadline,
                "withdraw_until": summary.withdraw_until,
                "recipients": list(summary.recipients),
                "scripts": summary.scripts,
                "participants": [p.__dict__ for p in summary.participants],
            }
        )
        return
    out.print(
        f"case {summary.ref} ({summary.status}), deadline {summary.deadline or '-'}, "
        f"{len(summary.recipients)} reviewer recipient(s)",
        markup=False,
    )
    out.print(f"signer {signer} (the reviewer passes it to --trusted-signer)", markup=False)
    table = Table("participant", "role", "status", "interview", "answers", "statement")
    for p in summary.participants:
        table.add_row(
            p.pseudonym,
            p.role,
            p.status,
            p.interview_state,
            str(p.answers),
            p.statement_state or "-",
        )
    out.print(table)


def _write_qr(link: str, path: Path) -> None:
    """The QR code carries the invite code, a secret: written whole, readable by the owner only."""
    import qrcode

    png = BytesIO()
    qrcode.make(link).save(png, format="PNG")
    atomic_write(path, png.getvalue())


@invite_app.command("create")
def invite_create(
    ref: Annotated[str, typer.Argument(help="Case reference")],
    role: Annotated[str, typer.Option(help="family or professional")],
    label: Annotated[
        str | None, typer.Option(help="How you know this person (stored encrypted)")
    ] = None,
    expires: Annotated[int, typer.Option(help="Days until the link expires")] = 14,
    qr: Annotated[Path | None, typer.Option(help="Also write a QR code PNG here")] = None,
    json_output: JsonOpt = False,
) -> None:
    """A single-use invite link for one participant."""
    if role not in ROLES:
        fail(f"--role must be family or professional, not {role!r}")

    async def body(container: Container) -> tuple[str, dict[str, object]]:
        username = await resolve_bot_username(container.settings)
        created = await container.invites.create(ref, role, label=label, expires_days=expires)
        link = f"https://t.me/{username}?start={created.code}"
        return link, {
            "link": link,
            "code": created.code,
            "case": created.case_ref,
            "participant": created.pseudonym,
            "role": created.role,
            "expires_at": created.expires_at,
        }

    link, data = with_container(body)
    if qr is not None:
        _write_qr(link, qr)
        data["qr"] = str(qr)
    if json_output:
        emit_json(data)
        return
    out.print(
        f"invite for {data['participant']} ({role}) in case {ref}, "
        f"expires {str(data['expires_at'])[:10]}",
        markup=False,
    )
    out.print(link, markup=False)
