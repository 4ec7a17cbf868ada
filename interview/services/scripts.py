"""Which interview script a participant gets: the case's own for their role, or the shipped one.

Scripts are identified by content hash; an interview records the hash it started with, and the
catalogue refuses to hand out a script whose hash no longer matches (a case script is never
silently swapped under a running interview).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from interview.script import InterviewScript, builtin_script, load_script
from interview.services.errors import CaseError
from storage.crypto import FieldRef
from storage.tables import Case, CaseScript
from storage.vault import Vault


class ScriptCatalog:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._cache: dict[str, InterviewScript] = {}
        self._builtins: dict[str, InterviewScript] = {}
        # Which script hash a case uses per role (None: the shipped one). A case's scripts are
        # fixed when the case is created, so this never goes stale.
        self._case_hash: dict[tuple[str, str], str | None] = {}

    async def for_case(self, session: AsyncSession, case: Case, role: str) -> InterviewScript:
        known = self._case_hash.get((case.id, role), "?")
        if known is None:
            return self.builtin(role)
        if known != "?" and known in self._cache:
            return self._cache[known]
        row = (
            (
                await session.execute(
                    select(CaseScript).where(
                        col(CaseScript.case_id) == case.id, col(CaseScript.role) == role
                    )
                )
            )
            .scalars()
            .first()
        )
        if row is None:
            self._case_hash[(case.id, role)] = None
            return self.builtin(role)
        self._case_hash[(case.id, role)] = row.content_hash
        cached = self._cache.get(row.content_hash)
        if cached is not None:
            return cached
        text = await self.vault.open_text(
            session, case.dek_id, FieldRef("case_scripts", row.id, "yaml"), row.yaml_ct
        )
        script = load_script(text)
        if script.content_hash != row.content_hash:
            raise CaseError(f"case script for {role} does not match its recorded hash")
        self._cache[row.content_hash] = script
        return script

    def builtin(self, role: str) -> InterviewScript:
        """A shipped script, parsed once: parsing YAML on every update cost ~40% of the CPU."""
        script = self._builtins.get(role)
        if script is None:
            script = self._builtins[role] = builtin_script(role)
        return script

    async def by_hash(
        self, session: AsyncSession, case: Case, role: str, content_hash: str
    ) -> InterviewScript:
        """The exact script an interview started with."""
        script = await self.for_case(session, case, role)
        if script.content_hash != content_hash:
            builtin = self.builtin(role)
            if builtin.content_hash == content_hash:
                return builtin
            raise CaseError(f"the {role} script this interview started with is no longer here")
        return script
