"""Finding 9 (names): refs are matched whole, and nothing from the store drives a terminal.

A case reference ending in a newline slipped through ``re.match`` + ``$``. File names, ledger
fields, signature and package fields are the attacker's text: an escape sequence in any of them
could clear the reviewer's screen, retitle the terminal or disguise a line of the report.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pyrage
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from interview.services.cases import validate_case_ref
from interview.services.errors import CaseError
from review.verify import verify_case
from storage.evidence import InvalidNameError, StatementBundle
from storage.evidence.common import canonical_json, check_ref
from storage.evidence.package import pack
from tests.security.attacker import (
    append_forged,
    case_dir,
    casevoice,
    forged_sealed,
    identity_file,
    reviewer,
    store_with_package,
)
from tests.unit.evidence.helpers import CASE, SUBMITTED, new_reviewer, sealed_case

ESCAPES = (b"\x1b", b"\x07", "\u009b".encode(), "\u202e".encode())  # ESC, BEL, CSI, RLO


def _clean(*outputs: bytes) -> None:
    for output in outputs:
        for escape in ESCAPES:
            assert escape not in output, output


def test_a_case_ref_ending_in_a_newline_is_refused_everywhere(tmp_path: Path) -> None:
    ref = "LCSPR-2026-04\n"
    with pytest.raises(InvalidNameError):
        check_ref(ref)
    with pytest.raises(CaseError):
        validate_case_ref(ref)

    env = {"CASEVOICE_DATA_DIR": str(tmp_path / "data"), "CASEVOICE_BOT_USERNAME": "casevoice_bot"}
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    assert casevoice("init", env=env).returncode == 0
    created = casevoice("case", "create", ref, "--recipient", recipient, "--json", env=env)
    assert created.returncode == 1 and created.stderr.startswith(b"error: case reference")
    assert json.loads(casevoice("case", "list", "--json", env=env).stdout) == []

    case = sealed_case(tmp_path / "store", ["s1"])
    pulled = reviewer(
        *["pull", ref, "--identity", str(identity_file(tmp_path / "id", case.reviewer))],
        *["--out", str(tmp_path / "out"), "--store", str(case.store.root)],
        *["--trusted-signer", case.fingerprint],
    )
    assert pulled.returncode == 1 and b"case ref" in pulled.stderr
    assert not (tmp_path / "out").exists()


def test_escape_sequences_in_store_names_and_fields_never_reach_the_terminal(
    tmp_path: Path,
) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    folder = case_dir(case.store)
    # A planted file whose name holds escape sequences
    (folder / "x\x1b]0;pwned\x07\u009b2J.age").write_bytes(b"age-encryption.org/v1\n")
    # A signature document naming a "signer" that clears the screen
    envelope = {
        "algorithm": "ed25519",
        "document": {"signer": "\x1b[2J\x1b[31mthe bot\u202e", "statement_id": "s1"},
        "signature": base64.b64encode(bytes(64)).decode(),
    }
    (folder / "s1.sig.json").write_bytes(canonical_json(envelope))
    # A line past the head with an escape in its statement id (the chain itself is valid)
    attacker = Ed25519PrivateKey.generate()
    entry = append_forged(
        case.store, attacker, "statement", "s2", forged_sealed(case.reviewer, "s2")
    )
    line = canonical_json({**entry.__dict__, "statement_id": "s2\x1b[2J"}) + b"\n"
    lines = (folder / "ledger.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "ledger.jsonl").write_bytes(b"".join([*lines[:-1], line]))

    report = verify_case(case.store, CASE, case.trust)
    assert not report.ok
    assert all(s.statement_id == "s1" for s in report.statements)

    checked = casevoice(
        *["review", "verify", CASE, "--store", str(case.store.root)],
        *["--trusted-signer", case.fingerprint],
    )
    assert checked.returncode == 1
    _clean(checked.stdout, checked.stderr)
    shown = checked.stdout + checked.stderr
    assert b"x\\x1b]0;pwned\\x07\\x9b2J.age" in shown  # named, escaped
    assert b"signed by another key (\\x1b[2J" in shown
    assert b"ledger line 2: not a valid ledger entry" in shown


def test_escape_sequences_in_a_package_never_reach_the_index_or_the_terminal(
    tmp_path: Path,
) -> None:
    person = new_reviewer()
    hostile = StatementBundle(
        statement_id="s1",
        case_ref=CASE,
        files={"statement.md": b"# Statement\n"},
        role="\x1b[2Jfamily\u009b31m",
        submitted_at=SUBMITTED,
        script_ref="\u202escript",
    )
    store_with_package(
        tmp_path / "store", Ed25519PrivateKey.generate(), person, "s1", pack(hostile)
    )
    out = tmp_path / "out"

    pulled = casevoice(
        *["review", "pull", CASE, "--identity", str(identity_file(tmp_path / "id", person))],
        *["--out", str(out), "--store", str(tmp_path / "store"), "--trust-on-first-use"],
    )

    assert pulled.returncode == 0, pulled.stderr
    _clean(pulled.stdout, pulled.stderr, (out / "index.md").read_bytes())
    _clean((out / "index.json").read_bytes())
    # escaped where it is shown (and Markdown-escaped again inside the index table)
    shown = (out / "index.md").read_text().replace("\\\\", "\\").replace("\\[", "[")
    assert "\\x1b[2Jfamily\\x9b31m" in shown
