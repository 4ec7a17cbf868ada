"""The composition root: builds every collaborator from ``Settings``, once, explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from interview.services.cases import CaseService
from interview.services.conversation import ConversationService
from interview.services.invites import InviteService
from interview.services.scripts import ScriptCatalog
from interview.services.sealing import SealingService
from storage.audit import AuditHead, AuditLog
from storage.db import create_engine, migrate, session_factory
from storage.errors import ConfigurationError
from storage.evidence import EvidenceWriter, LocalEvidenceStore, fingerprint, load_signing_key
from storage.evidence.keys import SigningKeyFile
from storage.inbox import Inbox
from storage.keyfile import EnvKeyProvider, FileKeyProvider, KeyProvider
from storage.keyring import Keyring, ShredLedger
from storage.vault import Vault


def evidence_writer(settings: Settings) -> EvidenceWriter:
    """The bot's signing key and the reviewer's evidence store; fail closed without them."""
    path = settings.signing_key_path
    if not path.exists():
        raise ConfigurationError(
            f"CASEVOICE_SIGNING_KEY_FILE: {path} does not exist (run `casevoice init`)"
        )
    writer = EvidenceWriter(LocalEvidenceStore(settings.evidence_path), load_signing_key(path))
    writer.pin_signer()
    return writer


def audit_head(settings: Settings) -> AuditHead:
    """The audit log's signed head beside the data, signed with the bot's Ed25519 key."""
    return AuditHead(
        settings.data_dir / "audit-head.json", SigningKeyFile(settings.signing_key_path)
    )


def signer_fingerprint(settings: Settings) -> str:
    """The bot's signer fingerprint: what the reviewer pins (`review pull --trusted-signer`)."""
    return fingerprint(load_signing_key(settings.signing_key_path).public_key())


def key_provider(settings: Settings) -> KeyProvider:
    if settings.kek is not None:
        if settings.hmac_key is None:
            raise ConfigurationError("CASEVOICE_HMAC_KEY must be set when CASEVOICE_KEK is")
        previous = settings.kek_previous.get_secret_value() if settings.kek_previous else None
        return EnvKeyProvider(
            settings.kek.get_secret_value(), settings.hmac_key.get_secret_value(), previous
        )
    return FileKeyProvider(settings.key_path)


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring
    vault: Vault
    audit: AuditLog
    scripts: ScriptCatalog
    cases: CaseService
    invites: InviteService
    inbox: Inbox
    conversation: ConversationService

    @classmethod
    async def open(
        cls, settings: Settings, *, run_migrations: bool = True, with_evidence: bool = False
    ) -> Container:
        provider = key_provider(settings)
        hmac_key = provider.hmac_key()  # fail closed now, not on the first answer
        engine = create_engine(settings.db_url)
        if run_migrations:
            await migrate(settings.db_url)
        sessions = session_factory(engine)
        keyring = Keyring(provider, ShredLedger(settings.shred_ledger_path))
        vault = Vault(keyring)
        audit = AuditLog(hmac_key, audit_head(settings))
        scripts = ScriptCatalog(vault)
        invites = InviteService(sessions, vault, audit, scripts)
        sealing = (
            SealingService(sessions, vault, audit, evidence_writer(settings), scripts)
            if with_evidence
            else None
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            keyring=keyring,
            vault=vault,
            audit=audit,
            scripts=scripts,
            cases=CaseService(sessions, vault, audit),
            invites=invites,
            inbox=Inbox(keyring),
            conversation=ConversationService(vault, audit, scripts, invites, sealing=sealing),
        )

    async def aclose(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Container:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
