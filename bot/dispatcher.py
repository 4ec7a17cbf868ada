"""Build the aiogram Dispatcher: routers, the unit-of-work middleware, workflow data."""

from __future__ import annotations

from aiogram import Dispatcher

from bot.middleware import UnitOfWork
from handlers import conversation, safety
from interview.services.conversation import ConversationService
from storage.inbox import Inbox
from storage.vault import Vault
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession


def build_dispatcher(sessions: async_sessionmaker[AsyncSession], inbox: Inbox, vault: Vault,
                     conversation_service: ConversationService) -> Dispatcher:
    dp = Dispatcher(conversation=conversation_service, vault=vault)
    dp.update.outer_middleware(UnitOfWork(sessions, inbox, vault))
    dp.include_routers(safety.build_router(), conversation.build_router())
    return dp
