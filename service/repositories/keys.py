"""Wrapped per-family data keys (``family_keys``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from service.db.port import Executor, Json


@dataclass(frozen=True, slots=True)
class WrappedFamilyKey:
    """A family's data key as stored: wrapped, with what is needed to unwrap it."""

    family_id: UUID
    provider: str
    key_id: str
    context: dict[str, str]
    wrapped: bytes | None = field(repr=False)


def store_family_key(
    ex: Executor, family_id: UUID, *, provider: str, key_id: str,
    context: dict[str, str], wrapped: bytes,
) -> None:
    """Record the wrapped data key of a new family."""
    ex.execute(
        """INSERT INTO family_keys (family_id, provider, key_id, encryption_context, wrapped_key)
           VALUES (:family_id, :provider, :key_id, :context, :wrapped)""",
        {"family_id": family_id, "provider": provider, "key_id": key_id,
         "context": Json(context), "wrapped": wrapped},
    )


def get_family_key(ex: Executor, family_id: UUID) -> WrappedFamilyKey | None:
    """The family's key record (``wrapped`` is ``None`` once destroyed), or ``None``."""
    row = ex.fetch_one(
        """SELECT family_id, provider, key_id, encryption_context, wrapped_key
           FROM family_keys WHERE family_id = :family_id""",
        {"family_id": family_id},
    )
    if row is None:
        return None
    wrapped = row["wrapped_key"]
    return WrappedFamilyKey(
        family_id=row["family_id"], provider=row["provider"], key_id=row["key_id"],
        context=dict(row["encryption_context"]),
        wrapped=None if wrapped is None else bytes(wrapped),
    )


def destroy_family_key(ex: Executor, family_id: UUID) -> bool:
    """Crypto-shred: forget the wrapped data key for good. ``True`` if a key was destroyed."""
    return ex.execute(
        """UPDATE family_keys SET wrapped_key = NULL, destroyed_at = now()
           WHERE family_id = :family_id AND wrapped_key IS NOT NULL""",
        {"family_id": family_id},
    ) == 1
