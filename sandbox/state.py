"""Everything the sandbox remembers: users, chats, messages, updates, files, logs, the clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import Clock
from sandbox.faults import FaultPlan
from sandbox.files import FileStore
from sandbox.updates import UpdateQueue

DEFAULT_BOT_ID = 7000000001
DEFAULT_BOT_USERNAME = "casevoice_sandbox_bot"
DEFAULT_BOT_NAME = "CaseVoice (sandbox)"


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass
class Chat:
    id: int
    type: str  # "private" | "group"
    title: str | None = None
    user: User | None = None  # the other side of a private chat
    bot_is_member: bool = True  # groups: the bot was added and has not left
    blocked: bool = False  # private: the user blocked the bot
    next_message_id: int = 1
    actions: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            chat["first_name"] = self.user.first_name
            if self.user.username:
                chat["username"] = self.user.username
        elif self.title:
            chat["title"] = self.title
        return chat


@dataclass
class StoredMessage:
    """One message in a chat, with the sandbox's view of it beside the Bot API object."""

    chat_id: int
    message_id: int
    from_bot: bool
    api: dict[str, Any]  # the current Telegram Message object
    protect_content: bool = False
    parse_mode: str | None = None
    raw_text: str | None = None  # as the bot sent it, before entity parsing
    keyboard: dict[str, Any] | None = None  # any reply_markup sent, inline or not
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions
    deleted: bool = False
    deleted_at: int | None = None

    @property
    def date(self) -> int:
        return int(self.api["date"])

    def view(self) -> dict[str, Any]:
        kind = next(
            (k for k in ("text", "voice", "audio", "document", "photo") if k in self.api), "service"
        )
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "user_id": self.api.get("from", {}).get("id"),
            "date": self.date,
            "kind": kind,
            "text": self.api.get("text", self.api.get("caption")),
            "raw_text": self.raw_text,
            "parse_mode": self.parse_mode,
            "reply_markup": self.keyboard,
            "buttons": _buttons(self.api.get("reply_markup")),
            "protect_content": self.protect_content,
            "edited": bool(self.history),
            "edit_count": len(self.history),
            "history": list(self.history),
            "deleted": self.deleted,
            "deleted_at": self.deleted_at,
            "message": self.api,
        }


def _buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = (markup or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


@dataclass
class CallbackRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    answer: dict[str, Any] | None = None


class SandboxState:
    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_name: str = DEFAULT_BOT_NAME,
    ) -> None:
        self.bot = User(bot_id, bot_name, username=bot_username, is_bot=True)
        self.clock = Clock()
        self.faults = FaultPlan()
        self.closing = False
        self.updates = UpdateQueue()
        self.reset()

    def reset(self) -> None:
        """Forget everything but the bot's identity; the clock goes back to real time.

        Update ids keep counting up: a bot still polling holds an offset, and restarting ids at 1
        would make it confirm (drop) the new updates unseen.
        """
        self.updates.close()
        next_update_id = self.updates.next_update_id
        self.clock = Clock()
        self.faults.clear()
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.updates = UpdateQueue(next_update_id=next_update_id)
        self.files = FileStore()
        self.callbacks: dict[str, CallbackRecord] = {}
        self.requests: list[dict[str, Any]] = []
        self.violations: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.tokens: list[str] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.descriptions: dict[str, dict[str, str]] = {"description": {}, "short_description": {}}
        self._bot_activity = asyncio.Event()

    def close(self) -> None:
        """The server is stopping: release every long poll and wait."""
        self.closing = True
        self.updates.close()
        self.bot_acted()

    # --- bot activity (wait helpers) ------------------------------------------------------------

    def bot_acted(self) -> None:
        self._bot_activity.set()
        self._bot_activity = asyncio.Event()

    async def wait_bot_activity(self, seconds: float) -> None:
        """Return when the bot next sends, edits or deletes something, or after `seconds`."""
        event = self._bot_activity
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(seconds, 0.0))

    # --- users and chats -----------------------------------------------------------------------

    def ensure_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> User:
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = User(user_id, first_name or f"User{user_id}")
        if first_name:
            user.first_name = first_name
        if username:
            user.username = username
        if language_code:
            user.language_code = language_code
        return user

    def private_chat(self, user: User) -> Chat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = Chat(user.id, "private", user=user)
        return chat

    def group_chat(self, chat_id: int, title: str | None = None) -> Chat:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat(
                chat_id, "group", title=title or f"Group {-chat_id}", bot_is_member=False
            )
        elif title:
            chat.title = title
        return chat

    # --- messages ------------------------------------------------------------------------------

    def add_message(self, chat: Chat, sender: User, content: dict[str, Any]) -> StoredMessage:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        api: dict[str, Any] = {
            "message_id": message_id,
            "from": sender.to_api(),
            "chat": chat.to_api(),
            "date": self.clock.timestamp(),
            **content,
        }
        stored = StoredMessage(chat.id, message_id, sender.is_bot, api)
        self.messages[(chat.id, message_id)] = stored
        return stored

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        return sorted(
            (m for (cid, _), m in self.messages.items() if cid == chat_id),
            key=lambda m: m.message_id,
        )

    # --- records -------------------------------------------------------------------------------

    def record_token(self, token: str) -> None:
        if token not in self.tokens:
            self.tokens.append(token)
