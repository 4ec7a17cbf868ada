"""Verify a case's evidence on the reviewer's machine, naming every problem precisely.

Every object (signer key, ledger, head, sealed file, signature, notice) is read from the store
once; ``keep`` receives exactly the sealed bytes that verified, so a caller decrypts those and
never a second read. Only entries covered by the signed head count: an entry past it is never
a statement and never a withdrawal. One entry past the head whose object the bot signed is an
interrupted append (a warning: the bot covers it at its next sealing); anything else past the
head is an error. A withdrawal counts only once its notice's hash and signature verify.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from review.report import Problem, StatementStatus, VerifyReport
from review.trust import Trust
from review.verify_objects import check_entry, check_orphans
from storage.evidence.common import check_ref
from storage.evidence.errors import EvidenceError, ObjectNotFoundError, SignatureError
from storage.evidence.keys import fingerprint, load_public_key
from storage.evidence.layout import SIGNER_KEY, head_key, ledger_key
from storage.evidence.ledger import LedgerEntry, check_chain, parse_ledger, uncovered_problem
from storage.evidence.ledger_format import head_problem, is_head_document
from storage.evidence.seal import read_signed
from storage.evidence.store import EvidenceStore

Keep = Callable[[str, bytes], None]

__all__ = ["Keep", "Problem", "StatementStatus", "VerifyReport", "verify_case"]


def verify_case(
    store: EvidenceStore, case_ref: str, trust: Trust, keep: Keep | None = None
) -> VerifyReport:
    """Check the signer, the ledger chain and head, every object, hash and signature of a case."""
    report = VerifyReport(case_ref=check_ref(case_ref))
    signer = _signer(store, trust, report)
    if signer is None:
        return report
    covered, every = _ledger(store, case_ref, signer, trust, report)
    for entry in covered:
        check_entry(store, case_ref, entry, signer, report, keep)
    check_orphans(store, case_ref, every, report)
    return report


def _signer(store: EvidenceStore, trust: Trust, report: VerifyReport) -> Ed25519PublicKey | None:
    """The key signatures are checked with: the trusted one, or (first use) the store's."""
    stored: Ed25519PublicKey | None = None
    try:
        stored = load_public_key(store.get_object(SIGNER_KEY))
    except ObjectNotFoundError:
        pass
    except EvidenceError:
        report.error("signer.pub in the store is not a readable Ed25519 public key")
    given = trust.signer
    if given is None:
        if stored is None:
            report.error("no usable signer.pub in the store: there is no signer to trust")
            return None
        report.trusted_on_first_use = True
        report.signer_fingerprint = fingerprint(stored)
        return stored
    report.signer_fingerprint = given.fingerprint
    if stored is not None and fingerprint(stored) != given.fingerprint:
        report.error(
            f"signer key changed: signer.pub in the store is {fingerprint(stored)}, "
            f"the trusted key is {given.fingerprint}"
        )
        if given.key is None:
            return None  # nothing here is signed by the trusted key: stop
    if given.key is not None:
        return given.key
    if stored is None:
        report.error(f"no usable signer.pub in the store to check against {given.fingerprint}")
    return stored


def _read(store: EvidenceStore, key: str, report: VerifyReport) -> bytes | None:
    try:
        return store.get_object(key)
    except ObjectNotFoundError:
        return None
    except EvidenceError as exc:
        report.error(str(exc))
        return None


def _ledger(
    store: EvidenceStore,
    case_ref: str,
    signer: Ed25519PublicKey,
    trust: Trust,
    report: VerifyReport,
) -> tuple[list[LedgerEntry], list[LedgerEntry]]:
    """The entries the signed head covers (all, for reporting, if the case is broken), and all."""
    known = len(report.problems)
    ledger = _read(store, ledger_key(case_ref), report)
    raw_head = _read(store, head_key(case_ref), report)
    if len(report.problems) > known:  # a link, a FIFO, an oversize file: nothing to go on
        return [], []
    if raw_head is None:
        if ledger is None and not store.list(f"{case_ref}/"):
            report.error(f"case {case_ref} is not in the evidence store")
        else:
            report.error(
                "ledger head (ledger.head.json) is missing: nothing in the case is anchored"
            )
        return [], []
    parsed = parse_ledger(ledger or b"")
    chain = parsed.bad_lines + check_chain(parsed.entries, case_ref)
    for message in chain:
        report.error(message)
    entries = sorted(parsed.entries, key=lambda e: e.seq)
    report.ledger_entries = len(entries)
    try:
        head = read_signed(raw_head, signer, "ledger head")
    except SignatureError as exc:
        report.error(str(exc))
        return entries, entries
    if not is_head_document(head, case_ref):
        report.error("ledger head is malformed or belongs to another case")
        return entries, entries
    report.head_seq, report.head_hash = head["seq"], head["entry_hash"]
    if chain:
        return entries, entries
    covered = head_problem(head, entries)
    if isinstance(covered, str):
        report.error(covered)
        return entries, entries
    _check_rollback(entries, covered, trust, report)
    _past_head(store, case_ref, entries, covered, signer, bool(parsed.torn_tail), report)
    return entries[:covered], entries


def _check_rollback(
    entries: list[LedgerEntry], head_seq: int, trust: Trust, report: VerifyReport
) -> None:
    if head_seq < trust.seen_seq:
        report.error(
            f"ledger rolled back: its signed head is at seq {head_seq}, but seq "
            f"{trust.seen_seq} was seen before (an older copy of the store was restored)"
        )
    elif trust.seen_seq and entries[trust.seen_seq - 1].entry_hash != trust.seen_hash:
        report.error(
            f"ledger rewritten: entry {trust.seen_seq} is not the one seen before (the store was "
            "rolled back and appended to since)"
        )


def _past_head(
    store: EvidenceStore,
    case_ref: str,
    entries: list[LedgerEntry],
    head_seq: int,
    signer: Ed25519PublicKey,
    torn: bool,
    report: VerifyReport,
) -> None:
    if len(entries) > head_seq:
        report.past_head += len(entries) - head_seq
        problem = uncovered_problem(store, case_ref, entries, head_seq, signer)
        if problem is None:
            report.warn(
                f"ledger entry {entries[-1].seq} is not yet covered by the signed head (an "
                "interrupted append the bot completes at its next sealing): not counted"
            )
        else:
            report.error(f"{problem}: not counted")
    if torn:
        report.past_head += 1
        report.warn("ledger: the last line is incomplete (an interrupted append): not counted")
