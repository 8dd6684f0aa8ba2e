"""Per-family data keys: created on first use, unwrapped on demand, destroyed for shredding."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from service.crypto.family_key_store.base import FamilyKeyStore, WrappedKey
from service.crypto.providers import DataKeyProvider, KeyUnavailable


def family_key_context(family_id: UUID) -> dict[str, str]:
    """Encryption context of a family's data key (KMS ``EncryptionContext``)."""
    return {"family": str(family_id)}


class FamilyKeyring:
    """A :class:`DataKeyProvider` (wraps/unwraps) over a :class:`FamilyKeyStore` (keeps).

    Parameters
    ----------
    provider
        Generates data keys and unwraps them (KMS in Lambda, a local master key otherwise).
    store
        Where the wrapped keys live (DynamoDB in Lambda, PostgreSQL locally).
    """

    def __init__(self, provider: DataKeyProvider, store: FamilyKeyStore) -> None:
        self.provider = provider
        self.store = store

    def sealing_key(self, family_id: UUID) -> bytes:
        """The family's data key for sealing new tokens, created on the family's first use.

        Two first uses racing each other both end with the one key the store kept.
        """
        stored = self.store.get(family_id)
        if stored is None:
            context = family_key_context(family_id)
            fresh = self.provider.generate_data_key(context)
            candidate = WrappedKey(provider=fresh.provider, key_id=fresh.key_id,
                                   context=context, wrapped=fresh.wrapped,
                                   created_at=datetime.now(UTC))
            stored = self.store.put_if_absent(family_id, candidate)
            if stored.wrapped == candidate.wrapped:
                return fresh.plaintext
        return self._unwrap(family_id, stored)

    def opening_key(self, family_id: UUID) -> bytes:
        """The family's data key for opening sealed tokens; never creates one.

        Raises
        ------
        KeyUnavailable
            The family has no key (never had one, or it was destroyed) or it cannot be
            unwrapped.
        """
        stored = self.store.get(family_id)
        if stored is None:
            raise KeyUnavailable("the family has no data key (destroyed or never created)")
        return self._unwrap(family_id, stored)

    def destroy(self, family_id: UUID) -> None:
        """Crypto-shred: delete the family's wrapped key from the store (idempotent)."""
        self.store.destroy(family_id)

    def _unwrap(self, family_id: UUID, stored: WrappedKey) -> bytes:
        if stored.provider != self.provider.name:
            raise KeyUnavailable(f"data key was wrapped by provider {stored.provider!r}")
        # The expected context, not the stored one: a key copied to another family's
        # record does not unwrap.
        return self.provider.decrypt_data_key(stored.wrapped, key_id=stored.key_id,
                                              context=family_key_context(family_id))
