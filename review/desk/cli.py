"""The desk's commands: ``casevoice review grid|export|chronology|quotes|bundle REF``.

Each reads a folder written by ``casevoice review pull`` (``--pulled``, default
``statements``), checks it holds case REF, and writes its output; nothing is decrypted again.
``bundle`` also re-verifies the case against the evidence store before writing anything.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from review.desk.anonymise import load_pseudonyms
from review.desk.bundle import make_bundle
from review.desk.chronology.table import chronology, write
from review.desk.grid import grid_xlsx
from review.desk.pulled import PulledCase, load_pulled
from review.desk.qdpx import qdpx
from review.desk.quotes import write_quotes
from review.desk.words import DEFAULT_MARKING
from review.snapshot import SnapshotStore
from review.trust import load_pin, parse_trusted_signer, resolve_trust
from review.verify import verify_case
from storage.evidence.errors import EvidenceError
from storage.evidence.store import LocalEvidenceStore
from storage.files import atomic_write

Ref = Annotated[str, typer.Argument(help="Case reference.")]
Pulled = Annotated[
    Path, typer.Option("--pulled", help="The folder `review pull` wrote (default: statements).")
]
Marking = Annotated[str, typer.Option("--marking", help="Protective marking on every page.")]
DEFAULT_PULLED = Path("statements")


def _load(pulled: Path, ref: str) -> PulledCase:
    case = load_pulled(pulled, ref)
    for statement_id, why in case.unreadable:
        typer.echo(f"warning: statement {statement_id} left out: {why}", err=True)
    return case


def _write(path: Path, data: bytes) -> None:
    atomic_write(path, data)


def add_desk_commands(
    app: typer.Typer,
    resolve_store: Callable[[Path | None], LocalEvidenceStore],
    clean_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    @app.command()
    def grid(
        ref: Ref,
        out: Annotated[Path, typer.Option("--out", help="The .xlsx to write.")],
        pulled: Pulled = DEFAULT_PULLED,
    ) -> None:
        """Answers side by side by question, one sheet per script, choices tallied by agency."""
        with clean_errors():
            _write(out, grid_xlsx(_load(pulled, ref)))
        typer.echo(f"{out}: written")

    @app.command("export")
    def export_(
        ref: Ref,
        out: Annotated[Path, typer.Option("--out", help="The .qdpx to write.")],
        fmt: Annotated[str, typer.Option("--format", help="qdpx (REFI-QDA 1.0).")] = "qdpx",
        pulled: Pulled = DEFAULT_PULLED,
    ) -> None:
        """A REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder), every answer pre-coded."""
        with clean_errors():
            if fmt != "qdpx":
                raise EvidenceError(f"format {fmt!r} is not known; use qdpx")
            _write(out, qdpx(_load(pulled, ref), datetime.now(UTC)))
        typer.echo(f"{out}: written")

    @app.command("chronology")
    def chronology_(
        ref: Ref,
        out: Annotated[Path, typer.Option("--out", help="Path prefix: writes .csv and .xlsx.")],
        merge: Annotated[
            list[Path] | None,
            typer.Option("--merge", help="An agency chronology CSV (date, agency, event, source)."),
        ] = None,
        pulled: Pulled = DEFAULT_PULLED,
    ) -> None:
        """A draft chronology of dated events, sorted; undated or ambiguous ones listed apart."""
        with clean_errors():
            result = chronology(_load(pulled, ref), merge or [])
            paths = write(result, out)
        typer.echo(
            f"{len(result.rows)} dated events, {len(result.undated)} undated or ambiguous: "
            + ", ".join(str(p) for p in paths)
        )

    @app.command()
    def quotes(
        ref: Ref,
        out: Annotated[Path, typer.Option("--out", help="Folder to write the quote sets to.")],
        pseudonyms: Annotated[
            Path | None,
            typer.Option("--pseudonyms", help="CSV: original, replacement (names, places…)."),
        ] = None,
        pulled: Pulled = DEFAULT_PULLED,
        marking: Marking = DEFAULT_MARKING,
    ) -> None:
        """Quotes only where consent allows; anonymised extracts with a redaction log."""
        with clean_errors():
            pairs = load_pseudonyms(pseudonyms) if pseudonyms else []
            paths = write_quotes(_load(pulled, ref), out, pairs, marking)
        typer.echo("written: " + ", ".join(p.name for p in paths))

    @app.command()
    def bundle(
        ref: Ref,
        out: Annotated[Path, typer.Option("--out", help="Folder for the disclosure bundle.")],
        pulled: Pulled = DEFAULT_PULLED,
        store: Annotated[
            Path | None, typer.Option("--store", help="Evidence store (to re-verify).")
        ] = None,
        trusted_signer: Annotated[
            str | None,
            typer.Option(
                "--trusted-signer",
                help="The bot's signer fingerprint (or public key file); by default the pin "
                "that the pull left in the pulled folder.",
            ),
        ] = None,
        reviewer: Annotated[
            str | None, typer.Option("--reviewer", help="Your name, for the certificate.")
        ] = None,
        marking: Marking = DEFAULT_MARKING,
    ) -> None:
        """PDF/A and Word statements, what was asked, provenance and a certificate."""
        with clean_errors():
            case = _load(pulled, ref)
            evidence = resolve_store(store)
            given = parse_trusted_signer(trusted_signer) if trusted_signer else None
            trust = resolve_trust(load_pin(pulled, ref), given, False, None)
            # Verified and bundled from one read of the store (see review/snapshot.py).
            snapshot = SnapshotStore.of_case(evidence, ref)
            report = verify_case(snapshot, ref, trust)
            if out.exists() and any(out.iterdir()):
                raise EvidenceError(f"{out} is not empty; give a new folder for the bundle")
            result = make_bundle(
                case,
                snapshot,
                report,
                out,
                made_at=datetime.now(UTC),
                reviewer=reviewer,
                marking=marking,
            )
        typer.echo(f"{out}: {len(result.statements)} statements; manifest {result.manifest_sha256}")
        for code, why in result.left_out:
            typer.echo(f"left out {code}: {why}", err=True)
