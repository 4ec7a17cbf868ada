"""Fixtures for the transcription tests: a shared data dir and a loaded tiny.en model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from transcription.engine import WhisperTranscriber
from transcription.models import resolve_model


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("casevoice-data")


@pytest.fixture(scope="module")
def tiny(data_dir: Path) -> Iterator[WhisperTranscriber]:
    """The real tiny.en model (≈0.3 s to load): cheap enough for unit tests."""
    yield WhisperTranscriber(resolve_model("tiny.en", data_dir), cpu_threads=1, beam_size=1)
