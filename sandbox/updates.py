"""The bot's update queue with Telegram's getUpdates semantics.

- Updates stay queued until confirmed: a later getUpdates with an offset higher than their id.
- A negative offset keeps only the last `-offset` updates; all earlier ones are forgotten.
- `timeout` is a real long poll: the call waits (in real time) until an update arrives.
- A second getUpdates terminates one still waiting, with 409 Conflict, as Telegram does when
  two bot instances poll with the same token.
- `allowed_updates` applies to updates created after it was set; the rest are not queued.
- `replay` queues already-delivered updates again, unchanged (Telegram re-delivering after a
  lost acknowledgement). A restarted bot (no offset yet) receives them; a bot holding a higher
  offset never does: its next poll confirms them, and a poll already waiting passes them by.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from dataclasses import dataclass, field
from typing import Any

DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class PollConflict(Exception):
    """This getUpdates was terminated by a newer one."""


@dataclass
class UpdateQueue:
    next_update_id: int = 1
    allowed_updates: list[str] | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    not_queued: list[dict[str, Any]] = field(default_factory=list)
    confirmed_up_to: int = 0
    delivered: dict[int, dict[str, Any]] = field(default_factory=dict)  # every queued update
    closed: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _poll_generation: int = 0

    def close(self) -> None:
        """Answer waiting polls now (server shutdown, reset) and every later one at once."""
        self.closed = True
        self._wake()

    def allows(self, kind: str) -> bool:
        if not self.allowed_updates:
            return kind not in DEFAULT_EXCLUDED
        return kind in self.allowed_updates

    def push(self, kind: str, payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Queue an update; returns it and whether the bot's allowed_updates let it in."""
        update_id = self.next_update_id
        update: dict[str, Any] = {"update_id": update_id, kind: payload}
        self.next_update_id += 1
        if not self.allows(kind):
            self.not_queued.append(update)
            return update, False
        self.pending.append(update)
        self.delivered[update_id] = copy.deepcopy(update)
        self._wake()
        return update, True

    def replay(self, update_ids: list[int]) -> list[int]:
        """Queue earlier updates again with their own ids; returns the ids queued anew."""
        missing = [i for i in update_ids if i not in self.delivered]
        if missing:
            raise KeyError(f"no update with id {missing[0]} was ever queued")
        waiting = {u["update_id"] for u in self.pending}
        fresh = [i for i in dict.fromkeys(update_ids) if i not in waiting]
        self.pending.extend(copy.deepcopy(self.delivered[i]) for i in fresh)
        self.pending.sort(key=lambda u: int(u["update_id"]))
        self._wake()
        return fresh

    def clear(self) -> None:
        """deleteWebhook(drop_pending_updates=True)."""
        if self.pending:
            self.confirmed_up_to = max(self.confirmed_up_to, self.pending[-1]["update_id"])
        self.pending.clear()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.confirmed_up_to = max(self.confirmed_up_to, offset - 1)
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:
            kept = self.pending[offset:]
            if len(kept) < len(self.pending):
                self.confirmed_up_to = kept[0]["update_id"] - 1 if kept else self.confirmed_up_to
            self.pending = kept

    async def get(
        self,
        *,
        offset: int | None,
        limit: int | None,
        wait_seconds: float,
        allowed_updates: list[str] | None,
    ) -> list[dict[str, Any]]:
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # terminates an older poll still waiting
        if allowed_updates is not None:
            self.allowed_updates = list(allowed_updates)
        if offset:
            self._confirm(offset)
        count = max(1, min(limit or 100, 100))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait_seconds, 0.0)
        while True:
            if generation != self._poll_generation:
                raise PollConflict
            # Updates replayed while this poll waited are below its offset: not for it (its
            # offset confirmed them); they stay queued for a poll without one (a restarted bot),
            # and the next poll with an offset confirms them at once.
            ready = [
                u for u in self.pending if not offset or offset < 0 or u["update_id"] >= offset
            ]
            if ready:
                return ready[:count]
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed:
                return []
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=remaining)
