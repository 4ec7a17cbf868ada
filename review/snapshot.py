"""One read of a case's objects, held in memory, so what is verified is what is used.

The disclosure bundle copies the ledger, its head, the signer key, sealed files and signatures
into the bundle. Reading them from the store again after verification would let a store that
changes bytes between reads (a sync client, a network folder, a writer racing the reviewer) put
unverified bytes beside a certificate that says they verified. So the case is read once into a
``SnapshotStore``, the snapshot is verified, and the bundle is made from the snapshot.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from storage.evidence.errors import EvidenceError, ObjectNotFoundError
from storage.evidence.layout import SIGNER_KEY
from storage.evidence.store import EvidenceStore


class SnapshotStore:
    """A read-only, in-memory copy of one case (and the store's signer key)."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self._objects = dict(objects)

    @classmethod
    def of_case(cls, store: EvidenceStore, case_ref: str) -> SnapshotStore:
        objects: dict[str, bytes] = {}
        for key in [SIGNER_KEY, *store.list(f"{case_ref}/")]:
            try:
                objects[key] = store.get_object(key)  # capped, no links, regular files only
            except ObjectNotFoundError:
                continue
        return cls(objects)

    def get_object(self, key: str) -> bytes:
        try:
            return self._objects[key]
        except KeyError:
            raise ObjectNotFoundError(f"{key} is not in the evidence store") from None

    def exists(self, key: str) -> bool:
        return key in self._objects

    def list(self, prefix: str = "") -> builtins.list[str]:
        return sorted(k for k in self._objects if k.startswith(prefix))

    def put_object(self, key: str, data: bytes) -> None:
        raise EvidenceError("a snapshot of the evidence store is read-only")

    append_object = replace_object = put_object

    def lock(self, name: str) -> AbstractContextManager[None]:
        @contextmanager
        def nothing() -> Iterator[None]:
            yield

        return nothing()
