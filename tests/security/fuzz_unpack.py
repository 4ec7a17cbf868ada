"""Atheris fuzz target: the statement package unpacker (storage/evidence/package.py).

Run by tests/security/test_fuzz.py for a bounded time; by hand (any libFuzzer flag works):

    .venv/bin/python tests/security/fuzz_unpack.py -max_total_time=60 CORPUS_DIR

Any input that makes ``unpack`` raise something other than ``PackageError`` (or run out of its
memory cap) is a crash: libFuzzer writes it to ``crash-…`` and the run fails. Keep such inputs in
tests/security/fuzz_regressions/, where test_fuzz.py replays them on every run.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["storage", "tarfile"]):
    import tarfile  # noqa: F401 - instrumented: the unpacker parses headers with TarInfo.frombuf

    from storage.evidence.errors import PackageError
    from storage.evidence.package import unpack


def test_one_input(data: bytes) -> None:
    try:
        unpacked = unpack(data)
    except PackageError:
        return
    for name in unpacked.files:  # what unpacks must be safe to write under the output folder
        if name.startswith("/") or ".." in name:
            raise AssertionError(f"unsafe name {name!r} unpacked")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
