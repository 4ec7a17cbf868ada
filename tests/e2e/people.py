"""`Person`: one simulated participant talking to the bot through the sandbox.

Every action waits for what the bot should answer, so tests read as a conversation. Waiting is
always for a bot message *after* the action (message ids only grow in a chat), and the expected
text is the last message of the bot's reply, so the next action never races the previous reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sandbox.client import SandboxClient

Message = dict[str, Any]
WAIT = 15.0

CONSENT_KEYS = ("take_part", "quote", "anonymised_publication")


class Person:
    def __init__(self, client: SandboxClient, user_id: int) -> None:
        self.client = client
        self.user_id = user_id
        self.sent: list[int] = []  # message ids of what this person typed
        self.updates: list[int] = []  # update ids of everything this person did

    # -- looking -----------------------------------------------------------------------------

    async def messages(self, *, include_deleted: bool = True) -> list[Message]:
        try:
            return await self.client.messages(self.user_id, include_deleted=include_deleted)
        except Exception:  # noqa: BLE001 - no chat yet
            return []

    async def high_water(self) -> int:
        return max((m["message_id"] for m in await self.messages()), default=0)

    async def bot_messages(self, after: int = 0) -> list[Message]:
        return [
            m
            for m in await self.messages(include_deleted=False)
            if m["from_bot"] and m["message_id"] > after
        ]

    async def wait(self, contains: str, after: int, timeout: float = WAIT) -> Message:  # noqa: ASYNC109
        return await self.client.wait_for_bot_message(
            self.user_id, contains=contains, after_message_id=after, timeout=timeout
        )

    async def wait_until(self, check: Callable[[list[Message]], Any], timeout: float = WAIT) -> Any:  # noqa: ASYNC109
        """Poll the chat until `check(bot messages)` returns something truthy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = check(await self.bot_messages())
            if found:
                return found
            if loop.time() > deadline:
                raise TimeoutError(f"user {self.user_id}: the chat never got there")
            await asyncio.sleep(0.05)

    async def current_prompt(self) -> str | None:
        """The prompt id on the latest live bot message that has prompt buttons."""
        for message in reversed(await self.bot_messages()):
            for button in message["buttons"]:
                action, _, arg = str(button.get("callback_data", "")).partition(":")
                if action == "pause" and arg:
                    return arg
        return None

    async def toast(self, query_id: str, timeout: float = WAIT) -> str | None:  # noqa: ASYNC109
        """The text of the bot's answerCallbackQuery for this press."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for record in await self.client.callback_answers():
                if record["id"] == query_id and record["answer"] is not None:
                    text: str | None = record["answer"].get("text")
                    return text
            await asyncio.sleep(0.05)
        raise TimeoutError(f"callback {query_id} was never answered")

    # -- acting ------------------------------------------------------------------------------

    async def say(self, text: str, expect: str | None = "Saved") -> Message | None:
        after = await self.high_water()
        sent = await self.client.send_text(self.user_id, text)
        self.sent.append(int(sent["message_id"]))
        self.updates.append(int(sent["update_id"]))
        return await self.wait(expect, after) if expect is not None else None

    async def command(
        self, name: str, payload: str | None = None, expect: str | None = None
    ) -> Message | None:
        after = await self.high_water()
        sent = await self.client.send_command(self.user_id, name, payload)
        self.updates.append(int(sent["update_id"]))
        return await self.wait(expect, after) if expect is not None else None

    async def press(
        self, data: str, expect: str | None = None, *, force: bool = False
    ) -> dict[str, Any]:
        """Press a button; returns the update (``callback_query.id`` for `toast`)."""
        after = await self.high_water()
        update = await self.client.press_button(self.user_id, data=data, force=force)
        self.updates.append(int(update["update_id"]))
        if expect is not None:
            await self.wait(expect, after)
        return update

    async def answer(self, *texts: str) -> str:
        """Answer the current free prompt with several messages, then Done; returns its id."""
        prompt = await self.current_prompt()
        assert prompt is not None, "no prompt on screen"
        for text in texts:
            await self.say(text)
        await self.press(f"done:{prompt}", expect=None)
        await self.wait_for_next(prompt)
        return prompt

    async def wait_for_next(self, previous: str | None) -> str | None:
        """Wait until a different prompt (or the read-back) is the latest thing on screen."""

        def moved(messages: list[Message]) -> Any:
            if not messages:
                return None
            last = messages[-1]
            if "Your statement is ready" in (last["text"] or ""):
                return "readback"
            for button in last["buttons"]:
                action, _, arg = str(button.get("callback_data", "")).partition(":")
                if action == "pause" and arg and arg != previous:
                    return arg
            return None

        found = await self.wait_until(moved)
        return None if found == "readback" else str(found)

    async def wait_for_button(self, data: str, after: int) -> Message:
        def having(messages: list[Message]) -> Message | None:
            return next(
                (
                    m
                    for m in messages
                    if m["message_id"] > after
                    and any(b.get("callback_data") == data for b in m["buttons"])
                ),
                None,
            )

        found: Message = await self.wait_until(having)
        return found

    async def consent(
        self,
        code: str,
        answers: tuple[bool, bool, bool] = (True, True, True),
        *,
        tell_me_more: bool = False,
    ) -> None:
        """Enrol with the invite code and answer the three consent questions."""
        after = await self.high_water()
        await self.command("start", code)
        await self.wait_for_button("ok", after)
        if tell_me_more:
            after = await self.high_water()
            await self.press("more")
            await self.wait_for_button("ok", after)
        after = await self.high_water()
        await self.press("ok")
        await self.wait_for_button(f"cy:{CONSENT_KEYS[0]}", after)
        for index, (key, agreed) in enumerate(zip(CONSENT_KEYS, answers, strict=True)):
            after = await self.high_water()
            await self.press(f"{'cy' if agreed else 'cn'}:{key}")
            if index + 1 < len(CONSENT_KEYS):
                await self.wait_for_button(f"cy:{CONSENT_KEYS[index + 1]}", after)
            else:
                await self.wait("Question 1 of", after)

    async def choose(self, prompt: str, value: str) -> str | None:
        """A single choice: pressing it moves on; returns the next prompt id."""
        await self.press(f"ch:{prompt}:{value}")
        return await self.wait_for_next(prompt)

    async def skip(self, prompt: str) -> str | None:
        await self.press(f"skip:{prompt}")
        return await self.wait_for_next(prompt)

    async def walk(self, plan: dict[str, list[str] | str], until: str | None = None) -> list[str]:
        """Go on to the read-back (or `until`): answer what `plan` names (texts, or a choice
        value), skip the rest. Returns the prompt ids passed, in order."""
        seen: list[str] = []
        prompt = await self.current_prompt()
        while prompt is not None and prompt != until:
            assert prompt not in seen[-1:], f"stuck at {prompt}"
            seen.append(prompt)
            step = plan.get(prompt)
            if isinstance(step, list):
                await self.answer(*step)
                prompt = await self.current_prompt_after(prompt)
            elif isinstance(step, str):
                prompt = await self.choose(prompt, step)
            else:
                prompt = await self.skip(prompt)
        return seen

    async def current_prompt_after(self, previous: str) -> str | None:
        return await self.wait_for_next(previous)
