"""``review bundle``: what a coroner, court or information request asks for, with provenance.

Before anything is written the case is verified again against the evidence store (ledger
chain, signed head, every signature and hash; nothing is decrypted), and every pulled statement
must still match its ledger entry and not have been withdrawn since: a failed check writes
nothing. The bundle holds, per statement, a PDF/A and the Word document, the script and consent
wording as shown (inside the PDF, and the sealed script file), its provenance, and the
evidence the reviewer holds: the ledger, its signed head, the signer's public key, each
signature and the sealed (still encrypted) file. The bot's own audit log stays on the bot's
host; the certificate says so. ``MANIFEST.sha256`` lists every file's hash; the one-page
certificate states how the statements were collected and verified, and the manifest's hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from review.desk.pdf import certificate_html, statement_html, to_pdfa
from review.desk.pulled import PulledCase
from review.desk.words import DEFAULT_MARKING, human_time
from review.verify import VerifyReport
from storage.evidence.errors import EvidenceError, ObjectNotFoundError
from storage.evidence.layout import SIGNER_KEY, head_key, ledger_key, sig_key
from storage.evidence.store import EvidenceStore

COLLECTED = (
    "Each participant answered one question at a time in a private chat with the CaseVoice "
    "bot, by text or voice note (voice transcribed on the bot's own machine and shown back to "
    "them to confirm or correct). They read their whole statement back, gave consent in three "
    "separate parts (take part; be quoted; anonymised quotes in the published report), and "
    "chose to send it. The bot then sealed it: encrypted to the reviewer's own key (age), "
    "signed with the bot's Ed25519 key, and appended to the case's hash-chained evidence "
    "ledger with a signed head; the participant received a receipt code derived from the "
    "sealed file's hash; the bot then destroyed its own readable copy."
)
VERIFIED = (
    "The statements were decrypted only on the reviewer's machine, after the ledger chain, "
    "its signed head, the signer key and every statement's signature and hash were checked. "
    "When this bundle was made the same checks were run again against the evidence store, "
    "and each statement below matched its ledger entry."
)
AUDIT = (
    "Audit events included: the ledger entries (sealing, withdrawals) and signatures, which "
    "the reviewer holds. The bot's own audit log (invite, consent, submission events) is kept "
    "on the bot's host and is not on the reviewer's machine; the case administrator can "
    "produce and verify it (casevoice audit verify) if it is asked for."
)


@dataclass
class BundleResult:
    folder: Path
    statements: list[str] = field(default_factory=list)  # codes
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (code, why)
    manifest_sha256: str = ""


def _check(case: PulledCase, report: VerifyReport) -> None:
    if not report.ok:
        problem = next(p.message for p in report.problems if p.severity == "error")
        raise EvidenceError(f"case {case.case_ref} failed verification: {problem}; nothing written")


def make_bundle(
    case: PulledCase,
    store: EvidenceStore,
    report: VerifyReport,
    out: Path,
    *,
    made_at: datetime,
    reviewer: str | None = None,
    marking: str = DEFAULT_MARKING,
) -> BundleResult:
    _check(case, report)
    status = {s.statement_id: s for s in report.statements}
    result = BundleResult(out)
    files: dict[str, bytes] = {}
    rows: list[list[str]] = []
    for pulled in case.statements:
        now = status.get(pulled.statement_id)
        if now is None or now.withdrawn or not now.ok:
            why = "withdrawn since the pull" if now and now.withdrawn else "does not verify now"
            result.left_out.append((pulled.code, why))
            continue
        if now.sealed_sha256 != pulled.provenance.get("sealed_sha256"):
            result.left_out.append((pulled.code, "pulled copy does not match the ledger"))
            continue
        name = f"{pulled.code}-{pulled.statement_id}"
        script = pulled.file("script.json")
        matches = (
            script is not None
            and hashlib.sha256(script).hexdigest() == pulled.statement.script_hash
        )
        html = statement_html(pulled.statement, pulled.provenance, script, matches, marking)
        files[f"statements/{name}.pdf"] = to_pdfa(html)
        docx = pulled.file("statement.docx")
        if docx is not None:
            files[f"statements/{name}.docx"] = docx
        if script is not None:
            files[f"asked/{name}-script.json"] = script
        files[f"provenance/{name}-provenance.json"] = pulled.file("provenance.json") or b""
        for key in (now.object_key, sig_key(now.object_key)):
            files[f"provenance/sealed/{key.rsplit('/', 1)[-1]}"] = store.get_object(key)
        result.statements.append(pulled.code)
        rows.append([pulled.code, now.receipt_code, human_time(now.sealed_at), now.sealed_sha256])
    for key in (ledger_key(case.case_ref), head_key(case.case_ref), SIGNER_KEY):
        try:
            files[f"provenance/{key.rsplit('/', 1)[-1]}"] = store.get_object(key)
        except ObjectNotFoundError:
            continue
    files["provenance/verification.json"] = json.dumps(
        report.to_dict(), indent=2, sort_keys=True
    ).encode()
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    files["MANIFEST.sha256"] = manifest.encode()
    result.manifest_sha256 = hashlib.sha256(files["MANIFEST.sha256"]).hexdigest()
    facts = [
        ("Case", case.case_ref),
        ("Prepared", human_time(made_at) + (f" by {reviewer}" if reviewer else "")),
        ("Bot signing key", report.signer_fingerprint or "—"),
        ("Ledger", f"{report.ledger_entries} entries, signed head at entry {report.head_seq}"),
        ("How collected", COLLECTED),
        ("How verified", VERIFIED),
        ("Audit events", AUDIT),
        ("Left out", "; ".join(f"{c}: {w}" for c, w in result.left_out) or "none"),
        ("MANIFEST.sha256", result.manifest_sha256),
    ]
    files["certificate.pdf"] = to_pdfa(certificate_html(facts, rows, marking, case.case_ref))
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return result
