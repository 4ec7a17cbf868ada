"""A controllable clock: tests move time forward instead of waiting (e.g. the 48-hour rule)."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time plus an offset that only ever grows."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def timestamp(self) -> int:
        """Unix time as Telegram sends it (whole seconds)."""
        return int(self.now())

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += seconds
        return self.now()

    @property
    def offset(self) -> float:
        return self._offset
