"""The local family key store: wrapped keys in the ``family_keys`` table.

For laptops and tests only. Keys kept in the application database end up in its
backups, so local mode gives **no** crypto-shredding guarantee against backups; in
Lambda the keys live in DynamoDB (:mod:`service.crypto.family_key_store.dynamodb`) and
this table stays empty.
"""

from __future__ import annotations

from uuid import UUID

from service.crypto.family_key_store.base import WrappedKey
from service.crypto.providers import KeyUnavailable
from service.db.port import Database, Json


class PostgresFamilyKeyStore:
    """Wrapped family keys in the ``family_keys`` table (one row per family).

    Each call runs in its own transaction on ``database`` (independent of the caller's),
    so a stored key survives a rollback of the request that created it, as it would in
    DynamoDB. Destroying NULLs ``wrapped_key`` and sets ``destroyed_at``.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    def put_if_absent(self, family_id: UUID, key: WrappedKey) -> WrappedKey:
        # Concurrent first uses: ON CONFLICT serialises on the primary key, the loser's
        # row is left untouched and both read back the winner's key.
        with self._db.transaction() as tx:
            tx.execute(
                """INSERT INTO family_keys (family_id, provider, key_id, encryption_context,
                                           wrapped_key, created_at)
                   VALUES (:family_id, :provider, :key_id, :context, :wrapped, :created_at)
                   ON CONFLICT (family_id) DO UPDATE
                     SET provider = EXCLUDED.provider, key_id = EXCLUDED.key_id,
                         encryption_context = EXCLUDED.encryption_context,
                         wrapped_key = EXCLUDED.wrapped_key,
                         created_at = EXCLUDED.created_at, destroyed_at = NULL
                   WHERE family_keys.wrapped_key IS NULL""",
                {"family_id": family_id, "provider": key.provider, "key_id": key.key_id,
                 "context": Json(dict(key.context)), "wrapped": key.wrapped,
                 "created_at": key.created_at},
            )
        stored = self.get(family_id)
        if stored is None:
            raise KeyUnavailable("the family's data key was destroyed concurrently")
        return stored

    def get(self, family_id: UUID) -> WrappedKey | None:
        row = self._db.fetch_one(
            """SELECT provider, key_id, encryption_context, wrapped_key, created_at
               FROM family_keys WHERE family_id = :family_id AND wrapped_key IS NOT NULL""",
            {"family_id": family_id},
        )
        if row is None:
            return None
        return WrappedKey(
            provider=row["provider"], key_id=row["key_id"],
            context={str(k): str(v) for k, v in dict(row["encryption_context"]).items()},
            wrapped=bytes(row["wrapped_key"]), created_at=row["created_at"],
        )

    def destroy(self, family_id: UUID) -> None:
        self._db.execute(
            """UPDATE family_keys SET wrapped_key = NULL, destroyed_at = now()
               WHERE family_id = :family_id AND wrapped_key IS NOT NULL""",
            {"family_id": family_id},
        )
