from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from review.cli import build_review_app, review_app
from storage.evidence.keys import identity_file_text
from tests.unit.evidence.helpers import CASE, Reviewer, sealed_case

runner = CliRunner()


def _identity_file(path: Path, reviewer: Reviewer) -> Path:
    path.write_text(identity_file_text(str(reviewer.identity), reviewer.recipient))
    path.chmod(0o600)
    return path


def test_keygen_writes_a_private_file_and_prints_the_recipient_last(tmp_path: Path) -> None:
    out = tmp_path / "me.txt"
    result = runner.invoke(review_app, ["keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    last_line = result.stdout.strip().splitlines()[-1]
    assert f"# public key: {last_line}" in out.read_text()
    assert last_line.startswith("age1")


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "me.txt"
    out.write_text("precious")
    result = runner.invoke(review_app, ["keygen", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "already exists" in result.stderr
    assert out.read_text() == "precious"


def test_verify_json_on_a_good_case(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    result = runner.invoke(
        review_app,
        ["verify", CASE, "--store", str(tmp_path / "store"), "--json"]
        + ["--trusted-signer", case.fingerprint],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["statements"][0]["statement_id"] == "s1"


def test_verify_failure_exits_non_zero_naming_the_problem(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    sealed = tmp_path / "store" / CASE / "s1.age"
    sealed.write_bytes(sealed.read_bytes() + b"!")
    result = runner.invoke(
        review_app,
        ["verify", CASE, "--store", str(tmp_path / "store"), "--trusted-signer", case.fingerprint],
    )
    assert result.exit_code == 1
    assert "statement s1: sealed file modified (sha256 mismatch)" in result.stdout
    assert result.stderr.strip() == f"error: case {CASE} failed verification (1 problems)"


def test_pull_uses_the_store_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = sealed_case(tmp_path / "store", ["s1", "s2"])
    identity = _identity_file(tmp_path / "id.txt", case.reviewer)
    monkeypatch.setenv("CASEVOICE_EVIDENCE_STORE", str(tmp_path / "store"))
    args = ["pull", CASE, "--identity", str(identity), "--out", str(tmp_path / "out")]
    result = runner.invoke(review_app, [*args, "--trusted-signer", case.fingerprint])
    assert result.exit_code == 0, result.output
    assert "2 exported, 0 withdrawn, 0 skipped" in result.stdout
    as_json = runner.invoke(review_app, [*args, "--json"])  # the pin kept in out/ is enough
    assert json.loads(as_json.stdout)["files_written"] == 0


def test_pull_with_the_wrong_identity_is_one_clear_line(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    stranger = sealed_case(tmp_path / "other", []).reviewer
    identity = _identity_file(tmp_path / "id.txt", stranger)
    result = runner.invoke(
        review_app,
        [
            "pull",
            CASE,
            "--identity",
            str(identity),
            "--out",
            str(tmp_path / "out"),
            "--store",
            str(tmp_path / "store"),
            "--trusted-signer",
            case.fingerprint,
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "not a recipient" in result.stderr
    assert not (tmp_path / "out").exists()


def test_default_store_from_the_composition_root_and_a_missing_store(tmp_path: Path) -> None:
    case = sealed_case(tmp_path / "store", ["s1"])
    app = build_review_app(default_store=lambda: tmp_path / "store")
    assert runner.invoke(app, ["verify", CASE, "--trusted-signer", case.fingerprint]).exit_code == 0
    missing = runner.invoke(
        review_app,
        ["verify", CASE, "--store", str(tmp_path / "nope"), "--trusted-signer", case.fingerprint],
    )
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"error: evidence store {tmp_path / 'nope'} does not exist"
