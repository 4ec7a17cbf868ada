"""Build the aiogram Dispatcher: routers, the unit-of-work middleware, workflow data."""

from __future__ import annotations

from aiogram import Dispatcher
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.middleware import UnitOfWork
from handlers import conversation, safety
from interview.services.conversation import ConversationService
from storage.inbox import Inbox
from storage.vault import Vault


def build_dispatcher(
    sessions: async_sessionmaker[AsyncSession],
    inbox: Inbox,
    vault: Vault,
    conversation_service: ConversationService,
    *,
    max_voice_seconds: int = 600,
) -> Dispatcher:
    dp = Dispatcher(
        conversation=conversation_service, vault=vault, max_voice_seconds=max_voice_seconds
    )
    dp.update.outer_middleware(UnitOfWork(sessions, inbox, vault))
    dp.include_routers(safety.build_router(), conversation.build_router())
    return dp
