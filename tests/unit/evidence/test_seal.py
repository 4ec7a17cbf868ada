from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.evidence import SignatureError, WrongIdentityError, normalize_receipt_code
from storage.evidence.keys import fingerprint, identity_file_text
from storage.evidence.package import pack
from storage.evidence.seal import read_signed, receipt_code, seal, sign_document, unseal
from tests.unit.evidence.helpers import bundle, new_reviewer, sealed_case


def test_sealed_file_opens_with_the_age_tool(tmp_path: Path) -> None:
    reviewer = new_reviewer()
    case = sealed_case(tmp_path / "store", ["s1"], reviewer)
    identity_file = tmp_path / "identity.txt"
    identity_file.write_text(identity_file_text(str(reviewer.identity), reviewer.recipient))
    sealed_path = tmp_path / "store" / "case-2024-07" / "s1.age"
    assert not sealed_path.read_bytes().startswith(b"-----BEGIN")  # binary, not armored

    out = subprocess.run(
        ["/usr/bin/age", "-d", "-i", str(identity_file), str(sealed_path)],
        check=True,
        capture_output=True,
    ).stdout

    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        names = tar.getnames()
        member = tar.extractfile("statement.md")
        assert member is not None and b"What I saw" in member.read()
    assert {"statement.json", "statement.md", "meta.json"} <= set(names)
    assert case.store.exists("case-2024-07/s1.sig.json")


def test_sealed_file_from_age_keygen_identity(tmp_path: Path) -> None:
    identity_file = tmp_path / "keygen.txt"
    subprocess.run(
        ["/usr/bin/age-keygen", "-o", str(identity_file)], check=True, capture_output=True
    )
    recipient = re.search(r"age1\w+", identity_file.read_text())
    assert recipient is not None
    sealed_path = tmp_path / "s1.age"
    sealed_path.write_bytes(seal(pack(bundle("s1")), [recipient.group()]))
    out = subprocess.run(
        ["/usr/bin/age", "-d", "-i", str(identity_file), str(sealed_path)],
        check=True,
        capture_output=True,
    ).stdout
    assert out == pack(bundle("s1"))


def test_every_recipient_can_open_and_a_stranger_cannot() -> None:
    alice, bob, stranger = new_reviewer(), new_reviewer(), new_reviewer()
    sealed = seal(b"statement", [alice.recipient, bob.recipient])
    assert unseal(sealed, [alice.identity], "s1") == b"statement"
    assert unseal(sealed, [bob.identity], "s1") == b"statement"
    with pytest.raises(WrongIdentityError, match="not a recipient"):
        unseal(sealed, [stranger.identity], "s1")


def test_signature_documents_verify_and_tampering_is_named() -> None:
    key = Ed25519PrivateKey.generate()
    document = {"kind": "statement", "statement_id": "s1", "signer": fingerprint(key.public_key())}
    signed = sign_document(document, key)
    assert read_signed(signed, key.public_key(), "s1") == document
    with pytest.raises(SignatureError, match="signature invalid"):
        read_signed(signed.replace(b'"s1"', b'"s2"'), key.public_key(), "s1")
    other = Ed25519PrivateKey.generate()
    with pytest.raises(SignatureError, match="another key"):
        read_signed(signed, other.public_key(), "s1")
    with pytest.raises(SignatureError, match="not valid JSON"):
        read_signed(b"{not json", key.public_key(), "s1")
    with pytest.raises(SignatureError, match="malformed"):
        read_signed(b'{"algorithm": "ed25519", "document": []}', key.public_key(), "s1")


def test_receipt_code_is_short_readable_and_forgiving() -> None:
    code = receipt_code("ab" * 32)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    assert receipt_code("ab" * 32) == code
    assert receipt_code("ac" + "ab" * 31) != code
    assert normalize_receipt_code(code.lower().replace("-", " ")) == code
    assert normalize_receipt_code("oooo-iiii-llll") == "0000-1111-1111"
    with pytest.raises(ValueError):
        normalize_receipt_code("UUUU-0000-0000")
