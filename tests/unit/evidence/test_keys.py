from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pyrage
import pytest

from storage.errors import CaseVoiceError
from storage.evidence import (
    BadRecipientError,
    IdentityFileError,
    SecretKeyInConfigError,
    SigningKeyError,
    fingerprint,
    generate_identity,
    generate_signing_key,
    load_identities,
    load_public_key,
    load_signing_key,
    parse_recipient,
    public_key_b64,
    public_key_pem,
    refuse_secret_key,
    write_identity_file,
)


def test_signing_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.pem"
    key = generate_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_signing_key(path)
    assert fingerprint(loaded.public_key()) == fingerprint(key.public_key())
    assert fingerprint(key.public_key()).startswith("ed25519:")


def test_signing_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    generate_signing_key(path)
    before = path.read_bytes()
    with pytest.raises(SigningKeyError):
        generate_signing_key(path)
    assert path.read_bytes() == before


def test_signing_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    generate_signing_key(path)
    path.chmod(0o644)
    with pytest.raises(SigningKeyError, match="readable by others"):
        load_signing_key(path)


def test_public_key_exports_load_back(tmp_path: Path) -> None:
    public = generate_signing_key(tmp_path / "k.pem").public_key()
    for exported in (public_key_b64(public), public_key_pem(public)):
        assert fingerprint(load_public_key(exported)) == fingerprint(public)
    with pytest.raises(SigningKeyError):
        load_public_key("not a key")


def test_parse_recipient_accepts_a_real_recipient() -> None:
    _, recipient = generate_identity()
    assert parse_recipient(f"  {recipient}\n") == recipient


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"),
        ("ssh-ed25519 AAAAC3Nza", "SSH"),
        ("hello world", "does not start with 'age1'"),
        ("age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "not a valid age key"),
        ("age1yubikey1qwertyuiopasdfghjkl", "plugin"),
    ],
)
def test_parse_recipient_names_the_problem(value: str, fragment: str) -> None:
    with pytest.raises(BadRecipientError, match=fragment) as info:
        parse_recipient(value)
    assert isinstance(info.value, CaseVoiceError)
    assert info.value.user_message


def test_a_private_key_given_as_recipient_is_refused_without_echoing_it() -> None:
    secret, _ = generate_identity()
    with pytest.raises(SecretKeyInConfigError) as info:
        parse_recipient(secret)
    assert secret not in str(info.value)


def test_secret_key_anywhere_in_configuration_is_refused() -> None:
    secret, recipient = generate_identity()
    refuse_secret_key({"reviewers": [recipient], "store": "/srv/evidence"})
    config = {"cases": {"c1": {"recipients": [recipient, secret.lower()]}}}
    with pytest.raises(
        SecretKeyInConfigError, match=r"settings\.cases\.c1\.recipients\[1\]"
    ) as info:
        refuse_secret_key(config, "settings")
    assert secret.lower() not in str(info.value)


def test_identity_file_has_the_age_keygen_format(tmp_path: Path) -> None:
    path = tmp_path / "me.txt"
    recipient = write_identity_file(path)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# created: ")
    assert lines[1] == f"# public key: {recipient}"
    assert lines[2].startswith("AGE-SECRET-KEY-1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [identity] = load_identities(path)
    assert str(identity.to_public()) == recipient
    with pytest.raises(IdentityFileError, match="already exists"):
        write_identity_file(path)


def test_identity_file_made_by_age_keygen_loads(tmp_path: Path) -> None:
    path = tmp_path / "keygen.txt"
    subprocess.run(["/usr/bin/age-keygen", "-o", str(path)], check=True, capture_output=True)
    [identity] = load_identities(path)
    ciphertext = pyrage.encrypt(b"x", [identity.to_public()])
    assert pyrage.decrypt(ciphertext, [identity]) == b"x"


def test_identity_file_errors_name_the_line_not_the_content(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("# comment\n\nAGE-SECRET-KEY-1NOTVALIDATALL\n")
    with pytest.raises(IdentityFileError, match="line 3") as info:
        load_identities(path)
    assert "NOTVALID" not in str(info.value)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n")
    with pytest.raises(IdentityFileError, match="no AGE-SECRET-KEY-1"):
        load_identities(empty)
    with pytest.raises(IdentityFileError, match="cannot be read"):
        load_identities(tmp_path / "missing.txt")
