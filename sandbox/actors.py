"""What people do in Telegram, turned into updates for the bot: the control API's verbs."""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

from sandbox.state import CallbackRecord, Chat, SandboxState, StoredMessage, User

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
PRIVACY_MODE = (
    "privacy mode: in groups a bot receives only commands and service messages "
    "(getMe says can_read_all_group_messages=false)"
)
_SERVICE_KEYS = ("new_chat_members", "left_chat_member")


class ActionError(ValueError):
    """The person cannot do that (no such message, no such button, ...)."""


class Actors:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def _chat_for(self, user: User, chat_id: int | None) -> Chat:
        if chat_id is None or chat_id == user.id:
            return self.state.private_chat(user)
        chat = self.state.chats.get(chat_id)
        if chat is None:
            chat = self.state.group_chat(chat_id)
        return chat

    def _post(self, user: User, chat_id: int | None, content: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat_for(user, chat_id)
        if chat.type != "private" and not chat.bot_is_member:
            raise ActionError(f"the bot is not in group {chat.id}: add_bot_to_group first")
        stored = self.state.add_message(chat, user, content)
        if chat.type != "private" and not _reaches_bot_in_group(content):
            return {
                "update_id": None,
                "queued": False,
                "reason": PRIVACY_MODE,
                "message": stored.api,
                "message_id": stored.message_id,
                "chat_id": chat.id,
            }
        return self._deliver("message", stored.api, stored)

    def _deliver(
        self, kind: str, payload: dict[str, Any], stored: StoredMessage | None = None
    ) -> dict[str, Any]:
        # A snapshot: later edits to the stored message must not rewrite a queued update.
        update, queued = self.state.updates.push(kind, copy.deepcopy(payload))
        result: dict[str, Any] = {
            "update_id": update["update_id"],
            "queued": queued,
            kind: payload,
            "accepted_at": self.state.clock.now(),
        }
        if stored is not None:
            result["message_id"] = stored.message_id
            result["chat_id"] = stored.chat_id
        return result

    # --- messages ------------------------------------------------------------------------------

    def text(self, user: User, text: str, *, chat_id: int | None = None) -> dict[str, Any]:
        if not text:
            raise ActionError("Telegram does not send empty messages")
        content: dict[str, Any] = {"text": text}
        match = _COMMAND.match(text)
        if match:
            entity = {"type": "bot_command", "offset": 0, "length": len(match.group(0))}
            content["entities"] = [entity]
        return self._post(user, chat_id, content)

    def command(
        self, user: User, command: str, payload: str | None = None, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        text = "/" + command.lstrip("/")
        if payload:
            text = f"{text} {payload}"
        return self.text(user, text, chat_id=chat_id)

    def voice(
        self,
        user: User,
        data: bytes,
        *,
        duration: int,
        mime_type: str = "audio/ogg",
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        stored = self.state.files.add(data, "voice", mime_type=mime_type)
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": mime_type,
            "file_size": stored.size,
        }
        return self._post(user, chat_id, {"voice": voice})

    def audio(
        self,
        user: User,
        data: bytes,
        *,
        duration: int,
        file_name: str = "audio.mp3",
        mime_type: str = "audio/mpeg",
        as_document: bool = False,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        if as_document:
            return self.document(
                user,
                data,
                file_name=file_name,
                mime_type=mime_type,
                caption=caption,
                chat_id=chat_id,
            )
        stored = self.state.files.add(data, "audio", mime_type=mime_type, file_name=file_name)
        audio = {**stored.summary(), "duration": duration}
        content: dict[str, Any] = {"audio": audio}
        if caption:
            content["caption"] = caption
        return self._post(user, chat_id, content)

    def document(
        self,
        user: User,
        data: bytes,
        *,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        stored = self.state.files.add(data, "document", mime_type=mime_type, file_name=file_name)
        content: dict[str, Any] = {"document": stored.summary()}
        if caption:
            content["caption"] = caption
        return self._post(user, chat_id, content)

    def forwarded(
        self,
        user: User,
        text: str,
        *,
        from_user: User | None = None,
        sender_name: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        origin: dict[str, Any]
        date = self.state.clock.timestamp() - 3600
        if from_user is not None:
            origin = {"type": "user", "date": date, "sender_user": from_user.to_api()}
        else:
            origin = {
                "type": "hidden_user",
                "date": date,
                "sender_user_name": sender_name or "Someone",
            }
        return self._post(user, chat_id, {"forward_origin": origin, "text": text})

    # --- buttons -------------------------------------------------------------------------------

    def press(
        self,
        user: User,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        data: str | None = None,
        button_text: str | None = None,
        force: bool = False,
    ) -> dict[str, Any]:
        """Press an inline button on a bot message (by default the latest one that has it)."""
        chat = self._chat_for(user, chat_id)
        candidates = [
            m for m in reversed(self.state.chat_messages(chat.id))
            if m.from_bot and not m.deleted and (message_id is None or m.message_id == message_id)
        ]  # fmt: skip
        if not candidates:
            raise ActionError(f"no bot message {message_id or ''} in chat {chat.id}")
        target, button = candidates[0], None
        for message in candidates:
            button = _find_button(message, data, button_text)
            if button is not None:
                target = message
                break
        if button is None and not force:
            raise ActionError(f"no inline button with data={data!r} text={button_text!r}")
        callback_data = data if data is not None else (button or {}).get("callback_data", "")
        query_id = str(secrets.randbits(63))
        self.state.callbacks[query_id] = CallbackRecord(
            query_id, user.id, chat.id, target.message_id, callback_data, self.state.clock.now()
        )
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": target.api,
            "chat_instance": str(abs(chat.id) * 7919 % 10**12),
            "data": callback_data,
        }
        return self._deliver("callback_query", query)

    # --- membership ----------------------------------------------------------------------------

    def add_bot_to_group(self, user: User, chat_id: int, title: str | None) -> dict[str, Any]:
        chat = self.state.group_chat(chat_id, title)
        chat.bot_is_member = True
        update = self._member_update(chat, user, "left", "member")
        self._post(user, chat.id, {"new_chat_members": [self.state.bot.to_api()]})
        return update

    def set_blocked(self, user: User, blocked: bool) -> dict[str, Any]:
        chat = self.state.private_chat(user)
        chat.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        return self._member_update(chat, user, old, new)

    def _member_update(self, chat: Chat, user: User, old: str, new: str) -> dict[str, Any]:
        bot = self.state.bot.to_api()
        payload = {
            "chat": chat.to_api(),
            "from": user.to_api(),
            "date": self.state.clock.timestamp(),
            "old_chat_member": _member(old, bot),
            "new_chat_member": _member(new, bot),
        }
        return self._deliver("my_chat_member", payload)


def _reaches_bot_in_group(content: dict[str, Any]) -> bool:
    text = content.get("text")
    is_command = isinstance(text, str) and _COMMAND.match(text) is not None
    return is_command or any(key in content for key in _SERVICE_KEYS)


def _member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    return member


def _find_button(
    message: StoredMessage, data: str | None, text: str | None
) -> dict[str, Any] | None:
    for row in (message.api.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if "callback_data" not in button:
                continue
            if data is not None and button["callback_data"] != data:
                continue
            if text is not None and button.get("text") != text:
                continue
            return dict(button)
    return None
