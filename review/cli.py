"""``casevoice review …``: the reviewer's commands (keygen, verify, pull, and the desk's).

Errors end as one plain line on stderr and a non-zero exit; ``--json`` puts a machine-readable
result on stdout. The lead mounts ``review_app`` (or ``build_review_app(default_store=…)``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from review.desk.cli import add_desk_commands
from review.desk.words import DEFAULT_MARKING
from review.pull import CaseVerificationError, PullProgress, PullResult, pull_case
from review.trust import TrustedSigner, load_pin, parse_trusted_signer, resolve_trust
from review.verify import VerifyReport, verify_case
from storage.errors import CaseVoiceError
from storage.evidence.common import check_ref, printable
from storage.evidence.errors import EvidenceError
from storage.evidence.keys import load_identities, write_identity_file
from storage.evidence.store import LocalEvidenceStore

STORE_ENV = "CASEVOICE_EVIDENCE_STORE"
FALLBACK_STORE = Path("casevoice-data/evidence")

StoreOption = Annotated[
    Path | None, typer.Option("--store", help=f"Evidence store directory (or ${STORE_ENV}).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
SignerOption = Annotated[
    str | None,
    typer.Option(
        "--trusted-signer",
        help="The bot's signer fingerprint as `casevoice case show` prints it (ed25519:…), "
        "or its public key file (PEM or base64).",
    ),
]
FirstUseOption = Annotated[
    bool,
    typer.Option(
        "--trust-on-first-use",
        help="Trust the signer the store offers, this once, and print it (only when you cannot "
        "get the fingerprint from the case administrator).",
    ),
]


@contextmanager
def _clean_errors() -> Iterator[None]:
    try:
        yield
    except CaseVoiceError as exc:
        typer.echo(f"error: {printable(exc, 2000)}", err=True)
        raise typer.Exit(1) from None


def build_review_app(default_store: Callable[[], Path | None] | None = None) -> typer.Typer:
    """The Typer sub-app; ``default_store`` lets the composition root supply the setting."""
    app = typer.Typer(
        help="The reviewer's side: keys, verification, pulling statements, the reviewer's desk."
    )

    def resolve_store(option: Path | None) -> LocalEvidenceStore:
        env = os.environ.get(STORE_ENV)
        path = option or (Path(env) if env else None)
        path = path or (default_store() if default_store else None) or FALLBACK_STORE
        if not path.is_dir():
            raise EvidenceError(f"evidence store {path} does not exist")
        return LocalEvidenceStore(path)

    @app.command()
    def keygen(
        out: Annotated[Path, typer.Option("--out", help="Identity file to create (0600).")],
    ) -> None:
        """Create a reviewer identity; the public key (age1…) is the last line printed."""
        with _clean_errors():
            recipient = write_identity_file(out)
        typer.echo(
            f"Created {out}. Keep it private and backed up; it opens every statement.", err=True
        )
        typer.echo("Give the public key below to the case administrator:", err=True)
        typer.echo(recipient)

    @app.command()
    def verify(
        ref: Annotated[str, typer.Argument(help="Case reference.")],
        store: StoreOption = None,
        as_json: JsonOption = False,
        trusted_signer: SignerOption = None,
        trust_on_first_use: FirstUseOption = False,
        pin_from: Annotated[
            Path | None,
            typer.Option(
                "--pin-from",
                help="A folder you pulled this case into: check against its pinned signer and "
                "newest head (read only).",
            ),
        ] = None,
    ) -> None:
        """Check a case's ledger, signatures and sealed files without decrypting anything."""
        with _clean_errors():
            pin = load_pin(pin_from, check_ref(ref)) if pin_from is not None else None
            if pin_from is not None and pin is None:
                raise EvidenceError(f"{pin_from} holds no signer pin: pull into it first")
            trust = resolve_trust(pin, _signer(trusted_signer), trust_on_first_use, pin_from)
            report = verify_case(resolve_store(store), ref, trust)
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
        else:
            _print_report(report)
        if not report.ok:
            errors = sum(p.severity == "error" for p in report.problems)
            typer.echo(f"error: case {ref} failed verification ({errors} problems)", err=True)
            raise typer.Exit(1)

    @app.command()
    def pull(
        ref: Annotated[str, typer.Argument(help="Case reference.")],
        identity: Annotated[Path, typer.Option("--identity", help="Your age identity file.")],
        out: Annotated[Path, typer.Option("--out", help="Directory to write statements to.")],
        store: StoreOption = None,
        as_json: JsonOption = False,
        trusted_signer: SignerOption = None,
        trust_on_first_use: FirstUseOption = False,
        marking: Annotated[
            str,
            typer.Option("--marking", help="Protective marking on every page of the Word files."),
        ] = DEFAULT_MARKING,
    ) -> None:
        """Verify, decrypt and write a case's statements (JSON, Markdown, Word) with an index.

        The first pull into a folder needs --trusted-signer (or --trust-on-first-use); the pin
        kept there then refuses another signer or an older head on every later pull.
        """
        console = Console(stderr=True)
        with _clean_errors(), _progress(console, enabled=not as_json) as on_progress:
            try:
                result = pull_case(
                    resolve_store(store),
                    ref,
                    load_identities(identity),
                    out,
                    on_progress,
                    signer=_signer(trusted_signer),
                    first_use=trust_on_first_use,
                    marking=marking,
                )
            except CaseVerificationError as exc:
                if as_json:
                    typer.echo(json.dumps(exc.report.to_dict(), indent=2, sort_keys=True))
                else:
                    _print_problems(exc.report)
                raise
        _say_first_use(result)
        counts = {
            s: sum(r.status == s for r in result.rows) for s in ("exported", "withdrawn", "skipped")
        }
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str))
            if counts["skipped"]:
                raise typer.Exit(1)  # scripts must see it too: something was not exported
            return
        typer.echo(
            f"{out}: {counts['exported']} exported, {counts['withdrawn']} withdrawn, "
            f"{counts['skipped']} skipped; {result.files_written} files written, "
            f"{result.files_unchanged} unchanged"
        )
        _print_problems(result.report)
        for row in result.rows:
            if row.status == "skipped":
                typer.echo(f"skipped: {row.statement_id}: {printable(row.problem)}", err=True)
        if counts["skipped"]:
            raise typer.Exit(1)

    add_desk_commands(app, resolve_store, _clean_errors)
    return app


def _signer(value: str | None) -> TrustedSigner | None:
    return None if value is None else parse_trusted_signer(value)


def _say_first_use(result: PullResult) -> None:
    """Trust on first use is a decision the reviewer must see, whatever the output format."""
    if result.report.trusted_on_first_use:
        typer.echo(
            f"trusted on first use: signer {result.report.signer_fingerprint}. Compare it with "
            "the fingerprint the case administrator gives you (`casevoice case show`); every "
            f"later pull into {result.out_dir} refuses any other signer.",
            err=True,
        )


def _print_problems(report: VerifyReport) -> None:
    for problem in report.problems:
        typer.echo(f"{problem.severity}: {printable(problem.message, 1000)}", err=True)


@contextmanager
def _progress(console: Console, enabled: bool) -> Iterator[Callable[[PullProgress], None] | None]:
    """A Rich progress bar on stderr, started only once there is something to show."""
    if not enabled:
        yield None
        return
    bars: list[tuple[Progress, TaskID]] = []

    def update(step: PullProgress) -> None:
        if not bars:
            bar = Progress(
                TextColumn("Pulling"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )
            bar.start()
            bars.append((bar, bar.add_task("pull", total=step.total)))
        bar, task = bars[0]
        bar.update(task, completed=step.done)

    try:
        yield update
    finally:
        for bar, _ in bars:
            bar.stop()


def _print_report(report: VerifyReport) -> None:
    trusted = " (trusted on first use: compare it)" if report.trusted_on_first_use else ""
    typer.echo(
        f"case {report.case_ref}: {report.ledger_entries} ledger entries, "
        f"head seq {report.head_seq}, signer {report.signer_fingerprint}{trusted}"
    )
    for status in report.statements:
        state = "withdrawn" if status.withdrawn else ("ok" if status.ok else "PROBLEM")
        typer.echo(
            f"  {status.ledger_seq:>4}  {status.statement_id}  {status.receipt_code}  {state}"
        )
    for problem in report.problems:
        typer.echo(f"{problem.severity}: {printable(problem.message, 1000)}")
    typer.echo("verified: OK" if report.ok else "verified: FAILED")


review_app = build_review_app()
