"""Faults injected into the next Bot API requests: what a flaky network and Telegram do.

Kinds:
- `429`: Too Many Requests with `parameters.retry_after`.
- `500`, `502`: server errors (the request is not processed).
- `400`, `403`: a refusal Telegram could give (the request is not processed); a client must not
  retry these.
- `delay`: wait `seconds`, then process the request normally.
- `drop`: close the connection without a response; the request is not processed.
- `drop_after`: process the request, then close the connection without a response
  (the bot cannot know whether its message went out).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FAULT_KINDS = frozenset({"400", "403", "429", "500", "502", "delay", "drop", "drop_after"})


@dataclass
class Fault:
    kind: str
    remaining: int
    method: str | None = None  # None: any method (file downloads are method "download")
    retry_after: int = 1
    seconds: float = 0.0
    delivered: int = 0

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and (self.method is None or self.method.lower() == method.lower())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlan:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self.delivered: list[dict[str, Any]] = []

    def add(
        self,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        retry_after: int = 1,
        seconds: float = 0.0,
    ) -> Fault:
        kind = str(kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(kind, count, method, retry_after, seconds)
        self._faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """The first pending fault for this method, consuming one of its deliveries."""
        for fault in self._faults:
            if fault.matches(method):
                fault.remaining -= 1
                fault.delivered += 1
                self.delivered.append({"kind": fault.kind, "method": method})
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [f.to_json() for f in self._faults if f.remaining > 0]

    def clear(self) -> None:
        self._faults.clear()
        self.delivered.clear()
