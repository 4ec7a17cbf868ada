"""Finding 3: the reviewer pins the bot's key; a store re-signed with another key is refused.

The attacker rewrites the whole store: their own signer.pub, a fake statement sealed to the
reviewer's public key, signatures, ledger and head all valid under their key. Only the
fingerprint the administrator hands over tells it apart, so the real CLI demands it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyrage

from storage.evidence import fingerprint, load_signing_key, public_key_pem
from tests.security.attacker import (
    FORGED_TEXT,
    casevoice,
    identity_file,
    resigned_store,
    reviewer,
    tree,
)
from tests.unit.evidence.helpers import CASE, sealed_case


def test_a_store_resigned_with_another_key_is_refused_unless_knowingly_trusted(
    tmp_path: Path,
) -> None:
    genuine = sealed_case(tmp_path / "genuine", ["s1"])
    attacker = resigned_store(tmp_path / "fake", genuine.reviewer, ["s1"])
    identity = identity_file(tmp_path / "id.txt", genuine.reviewer)

    def pull(store: str, out: Path, *flags: str) -> tuple[int, bytes]:
        done = reviewer(
            *["pull", CASE, "--identity", str(identity), "--out", str(out)],
            *["--store", str(tmp_path / store), *flags],
        )
        return done.returncode, done.stderr

    # Without a pin and without saying whom to trust: refused, nothing written (the console
    # script itself, once)
    bare = casevoice(
        *["review", "pull", CASE, "--identity", str(identity), "--out", str(tmp_path / "bare")],
        *["--store", str(tmp_path / "fake")],
    )
    assert bare.returncode != 0 and b"--trusted-signer FINGERPRINT" in bare.stderr, bare.stderr
    assert not (tmp_path / "bare").exists()

    # With the fingerprint the administrator handed over: refused, nothing written
    code, err = pull("fake", tmp_path / "out-pinned", "--trusted-signer", genuine.fingerprint)
    assert code != 0 and b"signer key changed" in err, err
    assert not (tmp_path / "out-pinned").exists()

    # Knowingly trusting on first use: pulled, and what was trusted is printed to compare
    code, err = pull("fake", tmp_path / "out-tofu", "--trust-on-first-use")
    assert code == 0, err
    assert f"trusted on first use: signer {fingerprint(attacker.public_key())}".encode() in err
    assert genuine.fingerprint.encode() not in err
    assert FORGED_TEXT in (tmp_path / "out-tofu" / "s1" / "statement.md").read_text()

    # A folder pinned to the bot refuses the re-signed store on every later pull, flag or not
    code, err = pull("genuine", tmp_path / "out", "--trusted-signer", genuine.fingerprint)
    assert code == 0, err
    pulled = tree(tmp_path / "out")
    for flags in ((), ("--trust-on-first-use",)):
        code, err = pull("fake", tmp_path / "out", *flags)
        assert code != 0 and b"signer key changed" in err, err
        assert tree(tmp_path / "out") == pulled
    code, err = pull(
        "genuine", tmp_path / "out", "--trusted-signer", fingerprint(attacker.public_key())
    )
    assert code != 0 and b"is not the signer pinned in" in err, err

    # verify follows the same rules
    unsaid = reviewer("verify", CASE, "--store", str(tmp_path / "fake"))
    assert unsaid.returncode != 0 and b"--trusted-signer" in unsaid.stderr
    pinned = reviewer(
        *["verify", CASE, "--store", str(tmp_path / "fake")],
        *["--pin-from", str(tmp_path / "out")],
    )
    assert pinned.returncode != 0 and b"signer key changed" in pinned.stdout + pinned.stderr


def test_a_public_key_file_still_pins_the_signer(tmp_path: Path) -> None:
    genuine = sealed_case(tmp_path / "genuine", ["s1"])
    key_file = tmp_path / "bot.pub"
    key_file.write_bytes(public_key_pem(genuine.key.public_key()))

    ok = reviewer(
        *["verify", CASE, "--store", str(tmp_path / "genuine")],
        *["--trusted-signer", str(key_file)],
    )

    assert ok.returncode == 0, ok.stderr
    assert genuine.fingerprint.encode() in ok.stdout


def test_init_and_case_show_print_the_signer_the_reviewer_pins(tmp_path: Path) -> None:
    env = {"CASEVOICE_DATA_DIR": str(tmp_path / "data"), "CASEVOICE_BOT_USERNAME": "casevoice_bot"}
    recipient = str(pyrage.x25519.Identity.generate().to_public())

    init = casevoice("init", env=env)
    created = casevoice("case", "create", "LCSPR-9", "--recipient", recipient, env=env)
    shown = casevoice("case", "show", "LCSPR-9", env=env)
    as_json = casevoice("case", "show", "LCSPR-9", "--json", env=env)

    assert init.returncode == created.returncode == shown.returncode == 0, init.stderr
    real = fingerprint(load_signing_key(tmp_path / "data" / "signing-key.pem").public_key())
    assert re.search(rb"^signer: (ed25519:[0-9a-f]{64})$", init.stdout, re.M)[1] == real.encode()  # type: ignore[index]
    assert f"signer {real}".encode() in shown.stdout
    assert json.loads(as_json.stdout)["signer_fingerprint"] == real
