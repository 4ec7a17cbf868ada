"""Methods about the bot itself, its updates, chats and callback queries."""

from __future__ import annotations

from typing import Any

from sandbox.methods import NOT_FOUND_QUERY, ApiError, Call, commands_key, method, resolve_chat
from sandbox.updates import PollConflict

CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_GIFTS_OFF = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}


@method("getMe")
async def get_me(call: Call, p: dict[str, Any]) -> Any:
    return {
        **call.state.bot.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


@method("getUpdates")
async def get_updates(call: Call, p: dict[str, Any]) -> Any:
    try:
        return await call.state.updates.get(
            offset=p.get("offset"),
            limit=p.get("limit"),
            wait_seconds=float(p.get("timeout") or 0),
            allowed_updates=p.get("allowed_updates"),
        )
    except PollConflict as exc:
        raise ApiError(409, CONFLICT) from exc


@method("deleteWebhook")
async def delete_webhook(call: Call, p: dict[str, Any]) -> Any:
    if p.get("drop_pending_updates"):
        call.state.updates.clear()
    return True


@method("getWebhookInfo")
async def get_webhook_info(call: Call, p: dict[str, Any]) -> Any:
    pending = len(call.state.updates.pending)
    return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}


@method("close", "logOut")
async def harmless(call: Call, p: dict[str, Any]) -> Any:
    return True


@method("setMyCommands")
async def set_my_commands(call: Call, p: dict[str, Any]) -> Any:
    call.state.commands[commands_key(p)] = list(p["commands"])
    return True


@method("getMyCommands")
async def get_my_commands(call: Call, p: dict[str, Any]) -> Any:
    return call.state.commands.get(commands_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(call: Call, p: dict[str, Any]) -> Any:
    call.state.commands.pop(commands_key(p), None)
    return True


@method("setMyDescription", "setMyShortDescription")
async def set_my_description(call: Call, p: dict[str, Any]) -> Any:
    field = "short_description" if "short_description" in p else "description"
    call.state.descriptions[field][p.get("language_code") or ""] = str(p.get(field) or "")
    return True


@method("getMyDescription")
async def get_my_description(call: Call, p: dict[str, Any]) -> Any:
    found = call.state.descriptions["description"].get(p.get("language_code") or "", "")
    return {"description": found}


@method("getMyShortDescription")
async def get_my_short_description(call: Call, p: dict[str, Any]) -> Any:
    found = call.state.descriptions["short_description"].get(p.get("language_code") or "", "")
    return {"short_description": found}


@method("answerCallbackQuery")
async def answer_callback_query(call: Call, p: dict[str, Any]) -> Any:
    record = call.state.callbacks.get(p["callback_query_id"])
    if record is None or record.answer is not None:
        raise ApiError(400, NOT_FOUND_QUERY)
    record.answer = {
        "text": p.get("text"),
        "show_alert": bool(p.get("show_alert")),
        "url": p.get("url"),
        "time": call.state.clock.now(),
    }
    return True


@method("getChat")
async def get_chat(call: Call, p: dict[str, Any]) -> Any:
    chat = resolve_chat(call, p["chat_id"])
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": dict(_GIFTS_OFF),
    }


@method("leaveChat")
async def leave_chat(call: Call, p: dict[str, Any]) -> Any:
    state = call.state
    chat = resolve_chat(call, p["chat_id"])
    if chat.type == "private":
        raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
    if not chat.bot_is_member:
        raise ApiError(403, "Forbidden: bot is not a member of the group chat")
    chat.bot_is_member = False
    bot = state.bot.to_api()
    state.updates.push(
        "my_chat_member",
        {
            "chat": chat.to_api(),
            "from": bot,
            "date": state.clock.timestamp(),
            "old_chat_member": {"status": "member", "user": bot},
            "new_chat_member": {"status": "left", "user": bot},
        },
    )
    state.bot_acted()
    return True
