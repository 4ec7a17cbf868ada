"""The disclosure bundle: PDF/A statements beside the Word ones, provenance, a certificate."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest

from review.desk.bundle import make_bundle
from review.desk.pulled import load_pulled
from review.trust import Trust, load_pin, resolve_trust
from review.verify import verify_case
from storage.evidence import LocalEvidenceStore
from storage.evidence.errors import EvidenceError
from tests.unit.review.desk.helpers import CASE, seal_and_pull, sealed_and_pulled, standard_people

MADE = datetime(2024, 10, 1, 9, 0, tzinfo=UTC)


def _pdfa(path: Path) -> pikepdf.Pdf:
    pdf = pikepdf.open(path)
    with pdf.open_metadata() as meta:
        assert meta.get("pdfaid:part") == "2" and meta.get("pdfaid:conformance") == "B"
    assert "/OutputIntents" in pdf.Root and "/Metadata" in pdf.Root
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            descriptor = font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return pdf


def test_the_bundle_holds_pdfa_statements_provenance_and_a_certificate(tmp_path: Path) -> None:
    case = seal_and_pull(tmp_path, standard_people()[:3], withdraw=())
    store = LocalEvidenceStore(tmp_path / "store")
    out = tmp_path / "bundle"

    result = make_bundle(
        case,
        store,
        verify_case(store, CASE, pinned(tmp_path)),
        out,
        made_at=MADE,
        reviewer="Jo Smith",
    )

    assert result.statements == ["F-01", "F-02", "P-01"] and result.left_out == []
    for pulled in case.statements:
        name = f"{pulled.code}-{pulled.statement_id}"
        pdf = _pdfa(out / "statements" / f"{name}.pdf")
        text = b"".join(page.Contents.read_bytes() for page in pdf.pages if "/Contents" in page)
        assert text  # pages were drawn
        assert (out / "statements" / f"{name}.docx").is_file()
        assert (out / "asked" / f"{name}-script.json").read_bytes() == pulled.file("script.json")
        assert (out / "provenance" / f"{name}-provenance.json").is_file()
        assert (out / "provenance" / "sealed" / f"{pulled.statement_id}.age").is_file()
        assert (out / "provenance" / "sealed" / f"{pulled.statement_id}.sig.json").is_file()
    for name in ("ledger.jsonl", "ledger.head.json", "signer.pub", "verification.json"):
        assert (out / "provenance" / name).is_file()
    cert = _pdfa(out / "certificate.pdf")
    assert len(cert.pages) == 1
    manifest = (out / "MANIFEST.sha256").read_text()
    assert hashlib.sha256(manifest.encode()).hexdigest() == result.manifest_sha256
    for line in manifest.splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_a_statement_withdrawn_since_the_pull_is_left_out(tmp_path: Path) -> None:
    case, writer = sealed_and_pulled(tmp_path, standard_people()[:2])
    store = LocalEvidenceStore(tmp_path / "store")
    writer.write_withdrawal(CASE, case.statements[1].statement_id, "participant-request")

    result = make_bundle(
        case, store, verify_case(store, CASE, pinned(tmp_path)), tmp_path / "bundle", made_at=MADE
    )

    assert result.statements == ["F-01"]
    assert result.left_out == [("F-02", "withdrawn since the pull")]
    assert not list((tmp_path / "bundle" / "statements").glob("F-02-*"))


def test_a_case_that_fails_verification_writes_nothing(tmp_path: Path) -> None:
    case = seal_and_pull(tmp_path, standard_people()[:1])
    store = LocalEvidenceStore(tmp_path / "store")
    (tmp_path / "store" / CASE / "ledger.jsonl").write_bytes(b"{}\n")

    with pytest.raises(EvidenceError, match="failed verification"):
        make_bundle(
            case,
            store,
            verify_case(store, CASE, pinned(tmp_path)),
            tmp_path / "bundle",
            made_at=MADE,
        )
    assert not (tmp_path / "bundle").exists()
    assert load_pulled(tmp_path / "statements", CASE).statements  # the pull itself is untouched


def pinned(root: Path) -> Trust:
    """What the bundle command verifies against: the pin the pull left in its folder."""
    return resolve_trust(load_pin(root / "statements", CASE), None, False, None)
