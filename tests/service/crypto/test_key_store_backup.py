"""Crypto-shredding reaches database backups when keys live in the DynamoDB key store.

The "backup" is a byte-for-byte copy of the whole test database taken with
``CREATE DATABASE ... TEMPLATE`` (what an Aurora snapshot / point-in-time restore gives
back), restored next to the live one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from uuid import UUID

import boto3
import pytest

from devtools.embedded import with_database
from service.audit import verify_chain
from service.crypto import FamilyKeyring, KeyUnavailable, KmsDataKeyProvider, open_sealed
from service.crypto.family_key_store import DynamoDbFamilyKeyStore
from service.db.port import Database, DatabaseError
from service.db.postgres import PostgresDatabase
from service.domain.errors import NotFoundError
from service.domain.principal import Principal
from service.repositories import connections as connection_repo
from service.repositories import users as user_repo
from service.use_cases import families as families_uc
from service.workflows.targets import provider_ref_aad
from tests.fixtures.postgres import _create_database, _drop_database, database_name
from tests.service.crypto.conftest import REGION
from tests.service.domain.helpers import add_connection, local_signer, principal

SIGNER = local_signer()  # one random audit key per test module


@pytest.fixture
def keyring(kms_provider: KmsDataKeyProvider,
            dynamodb_store: DynamoDbFamilyKeyStore) -> FamilyKeyring:
    """Lambda mode's keys: KMS wraps, DynamoDB keeps (both on moto)."""
    return FamilyKeyring(kms_provider, dynamodb_store)


def _seed(db: Database, keyring: FamilyKeyring, owner: Principal) -> tuple[UUID, UUID]:
    family = families_uc.create_family(db, SIGNER, owner, name="Backed up")
    conn = add_connection(db, SIGNER, keyring, owner, family.id, provider_ref="conn-secret")
    return family.id, conn.id


def _read_ref(db: Database, keyring: FamilyKeyring, family_id: UUID,
              connection_id: UUID) -> str:
    """Open the sealed provider connection id as the sync does (KeyUnavailable if shredded)."""
    view = connection_repo.sync_view(db, connection_id)
    assert view is not None and view.provider_ref is not None
    return open_sealed(keyring.opening_key(family_id), view.provider_ref,
                       provider_ref_aad(family_id, connection_id))


@pytest.fixture
def backup_of(pg_admin_url: str) -> Iterator[list[str]]:
    """Names of snapshot databases the test takes; dropped afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        _drop_database(pg_admin_url, name)


def test_backup_taken_before_deletion_cannot_decrypt_tokens(
    pg_admin_url: str, postgres_url: str, keyring: FamilyKeyring,
    kms_provider: KmsDataKeyProvider, backup_of: list[str],
) -> None:
    owner = principal("owner")
    live = PostgresDatabase(postgres_url)
    family_id, connection_id = _seed(live, keyring, owner)
    item = keyring.store.get(family_id)
    assert item is not None
    live.close()  # a template must have no open connections

    backup_name = f"backup_{uuid.uuid4().hex}"
    _create_database(pg_admin_url, backup_name, template=database_name(postgres_url))
    backup_of.append(backup_name)
    backup = PostgresDatabase(with_database(pg_admin_url, backup_name))
    live = PostgresDatabase(postgres_url)
    try:
        # The restored backup works: before deletion its tokens open with the live key.
        assert _read_ref(backup, keyring, family_id, connection_id) == "conn-secret"

        families_uc.delete_family(live, SIGNER, keyring, owner, family_id)

        # The backup still has the sealed tokens, but no key material at all ...
        assert backup.fetch_one(
            "SELECT provider_ref_ciphertext IS NOT NULL AS sealed FROM connections "
            "WHERE id = :id", {"id": connection_id}) == {"sealed": True}
        assert backup.fetch_all("SELECT * FROM family_keys") == []
        wrapped_hex = item.wrapped.hex()
        tables = [r["t"] for r in backup.fetch_all(
            "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")]
        for table in tables:
            for row in backup.fetch_all(f'SELECT x::text AS r FROM "{table}" x'):
                assert wrapped_hex not in row["r"], table

        # ... so reading them from the restored backup fails: the key store forgot the key.
        with pytest.raises(KeyUnavailable):
            _read_ref(backup, keyring, family_id, connection_id)
        # Nor does any binary value in the backup unwrap under the family's KMS context.
        columns = backup.fetch_all(
            """SELECT table_name AS t, column_name AS c FROM information_schema.columns
               WHERE table_schema = 'public' AND data_type = 'bytea'""")
        tried = 0
        for col in columns:
            for row in backup.fetch_all(
                f'SELECT "{col["c"]}" AS v FROM "{col["t"]}" WHERE "{col["c"]}" IS NOT NULL'
            ):
                tried += 1
                with pytest.raises(KeyUnavailable):
                    kms_provider.decrypt_data_key(
                        bytes(row["v"]), key_id=item.key_id,
                        context=families_uc.family_key_context(family_id))
        assert tried >= 2  # the sealed connection id and its nonce at least
    finally:
        backup.close()
        live.close()


def _actions(db: Database, family_id: UUID) -> list[str]:
    return [r["action"] for r in db.fetch_all(
        "SELECT action FROM audit_log WHERE family_id = :f ORDER BY seq", {"f": family_id})]


def test_failed_database_part_changes_nothing_and_keeps_the_key(
    postgres_db: Database, owner_postgres_db: Database, keyring: FamilyKeyring,
) -> None:
    owner = principal("owner")
    family_id, connection_id = _seed(postgres_db, keyring, owner)
    # Make the deletion's database statement fail.
    owner_postgres_db.execute(
        """CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$""")
    owner_postgres_db.execute("CREATE TRIGGER refuse BEFORE DELETE ON connections "
                        "FOR EACH ROW EXECUTE FUNCTION refuse()")

    with pytest.raises(DatabaseError):
        families_uc.delete_family(postgres_db, SIGNER, keyring, owner, family_id)

    # All or nothing: the family, its key (tokens still open) and its chain are intact.
    assert keyring.store.get(family_id) is not None
    assert families_uc.get_family(postgres_db, owner, family_id)[0].name == "Backed up"
    assert _read_ref(postgres_db, keyring, family_id, connection_id) == "conn-secret"
    actions = _actions(postgres_db, family_id)
    assert "family.key.destroy" not in actions and "family.delete" not in actions
    assert verify_chain(postgres_db, SIGNER.keys, family_id=family_id).ok

    # Retrying once the database recovers completes the deletion.
    owner_postgres_db.execute("DROP TRIGGER refuse ON connections")
    families_uc.delete_family(postgres_db, SIGNER, keyring, owner, family_id)
    assert postgres_db.fetch_all("SELECT id FROM connections WHERE family_id = :f",
                                 {"f": family_id}) == []
    assert keyring.store.get(family_id) is None
    assert _actions(postgres_db, family_id)[-2:] == ["family.delete", "family.key.destroy"]


def test_the_chain_records_the_deletion_before_the_key_is_shredded(
    postgres_db: Database, keyring: FamilyKeyring, kms_provider: KmsDataKeyProvider,
    dynamodb_store: DynamoDbFamilyKeyStore,
) -> None:
    owner, stranger = principal("owner"), principal("stranger")
    family_id, _ = _seed(postgres_db, keyring, owner)
    user_repo.ensure_user(postgres_db, stranger)  # a known user, not a member
    # A key store that cannot be reached (its table does not exist): shredding fails.
    unreachable = FamilyKeyring(kms_provider, DynamoDbFamilyKeyStore(
        "no-such-table", boto3.client("dynamodb", region_name=REGION)))

    with pytest.raises(Exception):  # noqa: B017 - whatever the store raises
        families_uc.delete_family(postgres_db, SIGNER, unreachable, owner, family_id)

    # The deletion is committed and recorded although the key still exists ...
    assert _actions(postgres_db, family_id)[-2:] == ["family.delete", "family.key.destroy"]
    assert keyring.store.get(family_id) is not None
    with pytest.raises(NotFoundError):
        families_uc.get_family(postgres_db, owner, family_id)
    assert verify_chain(postgres_db, SIGNER.keys, family_id=family_id).ok
    # ... nobody but the owner who deleted it can ask again ...
    with pytest.raises(NotFoundError):
        families_uc.delete_family(postgres_db, SIGNER, keyring, stranger, family_id)
    assert keyring.store.get(family_id) is not None
    # ... and the owner's retry shreds the key without a second record.
    families_uc.delete_family(postgres_db, SIGNER, keyring, owner, family_id)
    assert keyring.store.get(family_id) is None
    assert _actions(postgres_db, family_id).count("family.delete") == 1
