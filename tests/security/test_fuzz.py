"""The archive unpacker under a coverage-guided fuzzer (atheris/libFuzzer), for a bounded time.

Seeds are genuine packages and the hostile samples; libFuzzer mutates them for FUZZ_SECONDS
(default 25) and fails on any exception but PackageError. Every crash ever found is kept in
fuzz_regressions/ and replayed here first, so a fixed crash stays fixed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.evidence import PackageError
from storage.evidence.package import pack, unpack
from tests.security.test_hostile_archives import HOSTILE
from tests.unit.evidence.helpers import bundle

HERE = Path(__file__).parent
REGRESSIONS = HERE / "fuzz_regressions"
SECONDS = int(os.environ.get("CASEVOICE_FUZZ_SECONDS", "25"))


def test_every_crash_found_so_far_is_refused_typed(tmp_path: Path) -> None:
    """Replays fuzz_regressions/*.bin (crashes found by the fuzzer, once fixed) and the
    hand-made hostile samples: each gives a result or a PackageError, nothing else."""
    inputs = {p.name: p.read_bytes() for p in sorted(REGRESSIONS.glob("*.bin"))}
    inputs.update({name: make(tmp_path) for name, make in HOSTILE.items()})
    for data in inputs.values():
        with contextlib.suppress(PackageError):
            unpack(data)


@pytest.mark.slow
@pytest.mark.timeout(SECONDS + 120)
def test_the_unpacker_survives_the_fuzzer(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "genuine").write_bytes(pack(bundle("s1")))
    (corpus / "genuine-small").write_bytes(pack(bundle("s2", text="")))
    for name, make in HOSTILE.items():
        (corpus / name).write_bytes(make(tmp_path))
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()

    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "fuzz_unpack.py"),
            f"-max_total_time={SECONDS}",
            "-rss_limit_mb=2048",
            "-max_len=65536",
            "-timeout=20",
            f"-artifact_prefix={artifacts}/",
            str(corpus),
        ],
        cwd=HERE.parent.parent,
        env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)},
        capture_output=True,
        text=True,
        timeout=SECONDS + 90,
        check=False,
    )

    crashes = sorted(artifacts.iterdir())
    assert done.returncode == 0 and not crashes, (
        f"the fuzzer found a crash; copy {[str(c) for c in crashes]} into "
        f"{REGRESSIONS} (as NAME.bin) and fix it.\n{done.stderr[-4000:]}"
    )
    assert "Done" in done.stderr and "runs in" in done.stderr, done.stderr[-2000:]
