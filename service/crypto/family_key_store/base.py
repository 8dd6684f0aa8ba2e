"""The port to where wrapped per-family data keys live (:class:`FamilyKeyStore`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A family's data key in wrapped form, with what is needed to unwrap it.

    Attributes
    ----------
    provider
        Name of the :class:`~service.crypto.DataKeyProvider` that wrapped it
        (``"kms"`` or ``"local"``).
    key_id
        The wrapping key (KMS key ARN, or the local master key's fingerprint).
    context
        The encryption context the key was wrapped under (``{"family": <fid>}``).
    wrapped
        The wrapped key bytes (useless without the wrapping key and the context).
    created_at
        When the key was generated (UTC).
    """

    provider: str
    key_id: str
    context: Mapping[str, str]
    wrapped: bytes = field(repr=False)
    created_at: datetime


@runtime_checkable
class FamilyKeyStore(Protocol):
    """Holds at most one wrapped data key per family; destroying it is crypto-shredding.

    Implementations must make :meth:`put_if_absent` atomic: when two first uses of a
    family race, exactly one key is stored and both callers get that key back.
    """

    def put_if_absent(self, family_id: UUID, key: WrappedKey) -> WrappedKey:
        """Store ``key`` unless the family already has one; return the family's key.

        The result is ``key`` itself when it was stored, else the key stored earlier
        (by a concurrent caller that won the race).
        """
        ...

    def get(self, family_id: UUID) -> WrappedKey | None:
        """The family's key (strongly consistent read), or ``None`` if it has none."""
        ...

    def destroy(self, family_id: UUID) -> None:
        """Forget the family's key for good; a no-op if it has none (idempotent)."""
        ...
