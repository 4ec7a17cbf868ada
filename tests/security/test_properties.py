"""Property-based: every parser of untrusted bytes gives a result or a typed CaseVoiceError.

Random bytes, truncations and bit flips of genuine inputs go through the field-ciphertext
envelope, the package unpacker, the ledger parser (and the verifier and the bot's recovery
behind it) and the signature reader. Anything other than a result or a ``CaseVoiceError`` (an
IndexError, a RecursionError, a UnicodeDecodeError …) fails the test with the input shrunk.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from review.trust import Trust
from review.verify import VerifyReport, verify_case
from storage.crypto import DataKey, FieldCipher, FieldRef
from storage.errors import CaseVoiceError, DecryptionError
from storage.evidence import EvidenceWriter, LocalEvidenceStore
from storage.evidence.common import check_key, check_ref, is_hex64
from storage.evidence.ledger import EvidenceLedger, check_chain, parse_ledger
from storage.evidence.package import pack, unpack
from storage.evidence.seal import read_signed
from tests.unit.evidence.helpers import CASE, Sealed, bundle, sealed_case

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

KEY = DataKey.generate()
REF = FieldRef("answers", "3f1c", "text_ct")
ENVELOPE = FieldCipher.encrypt(KEY, b"He hit her", REF)
PACKAGE = pack(bundle("s1"))


def typed(call: Callable[[], Any]) -> Any:
    """The call's result, or None for a typed error; any other exception fails the test."""
    try:
        return call()
    except CaseVoiceError:
        return None


@st.composite
def damaged(draw: st.DrawFn, genuine: bytes) -> bytes:
    """A genuine input cut short, with some bits flipped, and maybe bytes spliced in."""
    data = bytearray(genuine[: draw(st.integers(0, len(genuine)))])
    for _ in range(draw(st.integers(0, 8))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=64))
    return bytes(data)


# --- the field-ciphertext envelope (storage/crypto.py) ------------------------------------------


@SETTINGS
@given(st.binary(max_size=256))
@example(b"CVF\x01" + bytes(16))
@example(b"CVF\x02" + bytes(60))
def test_random_bytes_never_decrypt_and_fail_typed(data: bytes) -> None:
    with pytest.raises(DecryptionError):
        FieldCipher.decrypt(KEY, data, REF)


@SETTINGS
@given(damaged(ENVELOPE))
def test_a_damaged_envelope_fails_typed_unless_untouched(data: bytes) -> None:
    result = typed(lambda: FieldCipher.decrypt(KEY, data, REF))
    assert result is None if data != ENVELOPE else result == b"He hit her"


# --- the package unpacker (storage/evidence/package.py) -----------------------------------------


@SETTINGS
@given(st.binary(max_size=4096))
def test_random_bytes_never_unpack_into_anything_unchecked(data: bytes) -> None:
    typed(lambda: unpack(data))


@SETTINGS
@given(damaged(PACKAGE))
def test_a_damaged_package_unpacks_to_safe_names_or_fails_typed(data: bytes) -> None:
    unpacked = typed(lambda: unpack(data))
    if unpacked is not None:
        assert all(not name.startswith("/") and ".." not in name for name in unpacked.files)
        assert isinstance(unpacked.meta, dict)


# --- the ledger parser, the verifier and the bot's recovery -------------------------------------


@pytest.fixture(scope="module")
def genuine_case() -> Iterator[Sealed]:
    with tempfile.TemporaryDirectory() as root:
        case = sealed_case(Path(root), ["s1", "s2", "s3"])
        case.writer.write_withdrawal(CASE, "s2", "participant-request")
        yield case


@SETTINGS
@given(st.binary(max_size=2048))
@example(b"[" * 3000 + b"\n")
@example(b'{"seq": 1e400}\n')
def test_random_bytes_parse_into_checked_entries_or_bad_lines(data: bytes) -> None:
    parsed = parse_ledger(data)
    check_chain(parsed.entries, CASE)
    for entry in parsed.entries:  # whatever parses, its fields are safe to use and to print
        check_ref(entry.case_ref)
        check_ref(entry.statement_id)
        check_key(entry.object_key)
        assert is_hex64(entry.entry_hash) and is_hex64(entry.prev_hash)


@settings(SETTINGS, max_examples=150, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_damaged_ledger_is_reported_and_never_crashes_the_reviewer_or_the_bot(
    genuine_case: Sealed, data: st.DataObject
) -> None:
    genuine = (genuine_case.store.root / CASE / "ledger.jsonl").read_bytes()
    ledger = data.draw(damaged(genuine))
    with tempfile.TemporaryDirectory() as root:
        shutil.copytree(genuine_case.store.root, root, dirs_exist_ok=True)
        (Path(root) / CASE / "ledger.jsonl").write_bytes(ledger)
        store = LocalEvidenceStore(Path(root))

        report = verify_case(store, CASE, Trust.pinned(genuine_case.fingerprint))
        if report.ok:  # damage can make verification fail, never change what it vouches for
            assert _vouched(report) == _vouched(
                verify_case(genuine_case.store, CASE, Trust.pinned(genuine_case.fingerprint))
            )

        typed(lambda: EvidenceLedger(store, CASE, genuine_case.key).recover())
        writer = EvidenceWriter(store, genuine_case.key)
        typed(lambda: writer.seal_statement(bundle("s9"), [genuine_case.reviewer.recipient]))


def _vouched(report: VerifyReport) -> list[tuple[str, str, bool]]:
    return [(s.statement_id, s.sealed_sha256, s.withdrawn) for s in report.statements]


# --- signature documents (storage/evidence/seal.py) ---------------------------------------------


@SETTINGS
@given(data=st.data())
def test_a_damaged_signature_file_verifies_only_untouched(
    genuine_case: Sealed, data: st.DataObject
) -> None:
    genuine = (genuine_case.store.root / CASE / "s1.sig.json").read_bytes()
    raw = data.draw(st.one_of(damaged(genuine), st.binary(max_size=512)))
    document = typed(lambda: read_signed(raw, genuine_case.key.public_key(), "s1"))
    if document is not None:
        assert document == read_signed(genuine, genuine_case.key.public_key(), "s1")
