"""A small, real story through the storage layer: case, invite, redemption, one answer.

Everything goes through the services and the vault exactly as the bot does; nothing is mocked.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyrage
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.services.cases import CaseService
from interview.services.invites import CreatedInvite, InviteService, Redeemed
from interview.services.scripts import ScriptCatalog
from storage.crypto import FieldRef
from storage.tables import Answer, AnswerVersion, Interview
from tests.conftest import PG_HOST, PG_PORT, PG_USER, Storage


def canary(kind: str) -> str:
    """A unique marker that can only be on disk if someone wrote it there in the clear."""
    return f"CANARY-{kind}-{secrets.token_hex(12)}"


def recipient() -> str:
    identity = pyrage.x25519.Identity.generate()
    return str(identity.to_public())


def services(storage: Storage) -> tuple[CaseService, InviteService]:
    cases = CaseService(storage.sessions, storage.vault, storage.audit)
    invites = InviteService(
        storage.sessions, storage.vault, storage.audit, ScriptCatalog(storage.vault)
    )
    return cases, invites


@dataclass(frozen=True)
class Written:
    case_ref: str
    case_id: str
    invite: CreatedInvite
    redeemed: Redeemed
    dek_id: str
    answer_id: str
    version_id: str


async def write_answer(
    session: AsyncSession,
    storage: Storage,
    interview_id: str,
    text: str,
    prompt_id: str = "child-who",
) -> tuple[str, str]:
    """Seal an answer and its first version the way the interview service does."""
    interview = await session.get(Interview, interview_id)
    assert interview is not None and interview.dek_id is not None
    answer = Answer(
        interview_id=interview.id,
        prompt_id=prompt_id,
        script_hash=interview.script_hash,
        kind="text",
    )
    answer.text_ct = await storage.vault.seal_text(
        session, interview.dek_id, FieldRef("answers", answer.id, "text"), text
    )
    version = AnswerVersion(
        answer_id=answer.id, version=1, source="typed", author="participant", text_ct=b""
    )
    version.text_ct = await storage.vault.seal_text(
        session, interview.dek_id, FieldRef("answer_versions", version.id, "text"), text
    )
    session.add(answer)
    await session.flush()
    session.add(version)
    await session.flush()
    return answer.id, version.id


async def write_story(
    storage: Storage, *, ref: str, title: str, label: str, answer: str, telegram_user_id: int
) -> Written:
    cases, invites = services(storage)
    case = await cases.create(ref, [recipient()], title=title)
    invite = await invites.create(ref, "family", label=label)
    async with storage.sessions() as session, session.begin():
        redeemed = await invites.redeem(
            session, invite.code, storage.vault.user_hash(telegram_user_id)
        )
        assert redeemed is not None
        answer_id, version_id = await write_answer(session, storage, redeemed.interview_id, answer)
        interview = await session.get(Interview, redeemed.interview_id)
        assert interview is not None and interview.dek_id is not None
        dek_id = interview.dek_id
    return Written(ref, case.id, invite, redeemed, dek_id, answer_id, version_id)


async def read_answer(storage: Storage, written: Written) -> str:
    async with storage.sessions() as session:
        answer = await session.get(Answer, written.answer_id)
        assert answer is not None and answer.text_ct is not None
        return await storage.vault.open_text(
            session, written.dek_id, FieldRef("answers", answer.id, "text"), answer.text_ct
        )


def pg_dump(database: str) -> bytes:
    """The plain-SQL dump of one database, as an operator's backup would hold it."""
    result = subprocess.run(
        ["pg_dump", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "--no-password", database],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert b"CREATE TABLE public.answers" in result.stdout
    return result.stdout


def forms(secret: str) -> dict[str, bytes]:
    """Every shape a leaked string could take on disk."""
    raw = secret.encode()
    middle = secret[len(secret) // 3 : len(secret) // 3 + 14]
    return {
        "utf-8": raw,
        "utf-16-le": secret.encode("utf-16-le"),
        "utf-16-be": secret.encode("utf-16-be"),
        "substring": middle.encode(),
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
    }


def leaks(blob: bytes, secret: str) -> list[str]:
    return [name for name, form in forms(secret).items() if form in blob]


def files_under(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}
