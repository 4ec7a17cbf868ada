"""`SandboxClient`: drive a running sandbox from tests (act as users, read what the bot did)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp

MessagePredicate = Callable[[dict[str, Any]], bool]


class SandboxClientError(RuntimeError):
    """The control API refused a request."""


class SandboxClient:
    """An async client for the control API. `base_url` is what the bot's API server points at."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self, verb: str, path: str, body: dict[str, Any] | None = None, **query: Any
    ) -> Any:
        params = {k: str(v) for k, v in query.items() if v is not None}
        url = f"{self.base_url}/_control/{path}"
        async with self._http().request(verb, url, json=body, params=params) as response:
            payload = await response.json()
            if response.status >= 400:
                raise SandboxClientError(f"{verb} {path}: {response.status} {payload}")
            return payload

    async def _act(self, user_id: int, action: str, **body: Any) -> dict[str, Any]:
        clean = {k: v for k, v in body.items() if v is not None}
        result: dict[str, Any] = await self._call("POST", f"users/{user_id}/{action}", clean)
        return result

    # --- acting as users ------------------------------------------------------------------------

    async def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, **profile: Any
    ) -> dict[str, Any]:
        """Profile keys: first_name, username, language_code."""
        return await self._act(user_id, "text", text=text, chat_id=chat_id, **profile)

    async def send_command(
        self, user_id: int, command: str, payload: str | None = None, *,
        chat_id: int | None = None, **profile: Any,
    ) -> dict[str, Any]:  # fmt: skip
        return await self._act(
            user_id, "command", command=command, payload=payload, chat_id=chat_id, **profile
        )

    async def send_voice(
        self, user_id: int, data: bytes, duration: int, *, mime_type: str = "audio/ogg",
        chat_id: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return await self._act(
            user_id,
            "voice",
            data_b64=_b64(data),
            duration=duration,
            mime_type=mime_type,
            chat_id=chat_id,
        )

    async def send_audio(
        self, user_id: int, data: bytes, duration: int, *, file_name: str = "audio.mp3",
        mime_type: str = "audio/mpeg", as_document: bool = False, caption: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return await self._act(
            user_id,
            "audio",
            data_b64=_b64(data),
            duration=duration,
            file_name=file_name,
            mime_type=mime_type,
            as_document=as_document,
            caption=caption,
        )

    async def send_document(
        self, user_id: int, data: bytes, file_name: str, *, mime_type: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return await self._act(
            user_id,
            "document",
            data_b64=_b64(data),
            file_name=file_name,
            mime_type=mime_type,
            caption=caption,
        )

    async def send_forwarded(
        self, user_id: int, text: str, *, from_user_id: int | None = None,
        sender_name: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return await self._act(
            user_id, "forward", text=text, from_user_id=from_user_id, sender_name=sender_name
        )

    async def press_button(
        self, user_id: int, *, data: str | None = None, text: str | None = None,
        message_id: int | None = None, chat_id: int | None = None, force: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """Press an inline button by callback data and/or label (latest bot message having it)."""
        return await self._act(
            user_id,
            "press",
            data=data,
            button_text=text,
            message_id=message_id,
            chat_id=chat_id,
            force=force or None,
        )

    async def add_bot_to_group(
        self, user_id: int, chat_id: int, title: str | None = None
    ) -> dict[str, Any]:
        return await self._act(user_id, "add_to_group", chat_id=chat_id, title=title)

    async def block_bot(self, user_id: int) -> dict[str, Any]:
        return await self._act(user_id, "block")

    async def unblock_bot(self, user_id: int) -> dict[str, Any]:
        return await self._act(user_id, "unblock")

    # --- reading ----------------------------------------------------------------------------

    async def chat(self, chat_id: int, *, include_deleted: bool = True) -> dict[str, Any]:
        flag = "true" if include_deleted else "false"
        result: dict[str, Any] = await self._call("GET", f"chats/{chat_id}", include_deleted=flag)
        return result

    async def messages(
        self, chat_id: int, *, include_deleted: bool = True, from_bot: bool | None = None
    ) -> list[dict[str, Any]]:
        view = await self.chat(chat_id, include_deleted=include_deleted)
        return [m for m in view["messages"] if from_bot is None or m["from_bot"] == from_bot]

    async def bot_messages(
        self, chat_id: int, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        return await self.messages(chat_id, include_deleted=include_deleted, from_bot=True)

    async def wait_for_bot_message(
        self, chat_id: int, *, contains: str | None = None,
        predicate: MessagePredicate | None = None, after_message_id: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109  (the helper polls; a deadline is its point)
    ) -> dict[str, Any]:  # fmt: skip
        """The first live bot message after `after_message_id` matching; waits up to `timeout`."""
        if predicate is None:
            result: dict[str, Any] = await self._call(
                "GET", f"chats/{chat_id}/wait", contains=contains, after=after_message_id,
                timeout=timeout,
            )  # fmt: skip
            return result
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                for message in await self.bot_messages(chat_id):
                    text = message.get("text") or ""
                    if (
                        message["message_id"] > after_message_id
                        and (contains is None or contains in text)
                        and predicate(message)
                    ):
                        return message
            except SandboxClientError:
                pass  # the chat does not exist yet
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError(f"no bot message in chat {chat_id} matched within {timeout}s")
            await asyncio.sleep(0.05)

    async def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "requests", method=method)
        return result

    async def counts(self) -> dict[str, int]:
        result: dict[str, int] = await self._call("GET", "counts")
        return result

    async def violations(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "violations")
        return result

    async def errors(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "errors")
        return result

    async def callback_answers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "callbacks")
        return result

    async def updates(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "updates")
        return result

    async def replay_updates(self, update_ids: list[int]) -> list[int]:
        """Deliver earlier updates again, same ids (see `UpdateQueue.replay`)."""
        result = await self._call("POST", "updates/replay", {"update_ids": update_ids})
        return [int(i) for i in result["replayed"]]

    async def wait_for_updates_confirmed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has confirmed every queued update (a later getUpdates offset)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (await self.updates())["pending"]:
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError("the bot did not confirm all updates in time")
            await asyncio.sleep(0.05)

    async def bot_info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "bot")
        return result

    async def file_bytes(self, file_id: str) -> bytes:
        async with self._http().get(f"{self.base_url}/_control/files/{file_id}") as response:
            if response.status != 200:
                raise SandboxClientError(f"file {file_id}: {response.status}")
            return await response.read()

    # --- the world around the bot -------------------------------------------------------------

    async def inject_fault(
        self, kind: str, *, count: int = 1, method: str | None = None, retry_after: int = 1,
        seconds: float = 0.0,
    ) -> dict[str, Any]:  # fmt: skip
        """kind: "400", "403", "429", "500", "502", "delay", "drop" or "drop_after"."""
        body = {
            "kind": str(kind),
            "count": count,
            "method": method,
            "retry_after": retry_after,
            "seconds": seconds,
        }
        result: dict[str, Any] = await self._call("POST", "faults", body)
        return result

    async def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "faults")
        return result

    async def clear_faults(self) -> None:
        await self._call("DELETE", "faults")

    async def advance_clock(self, seconds: float) -> float:
        result = await self._call("POST", "clock", {"seconds": seconds})
        return float(result["now"])

    async def now(self) -> float:
        return float((await self._call("GET", "clock"))["now"])

    async def reset(self) -> None:
        await self._call("POST", "reset")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
