"""Envelope encryption of consent tokens and crypto-shredding (local key and KMS via moto)."""

from __future__ import annotations

import os

import pytest

from service.crypto import (
    FamilyKeyring,
    KeyUnavailable,
    KmsDataKeyProvider,
    LocalDataKeyProvider,
    SealedValue,
    open_sealed,
    seal,
)
from service.crypto.family_key_store import DynamoDbFamilyKeyStore
from service.db.port import Database
from service.use_cases import families as families_uc
from service.workflows.targets import DatabaseSyncTargets, provider_ref_aad
from tests.service.domain.helpers import (
    add_connection,
    local_key_provider,
    local_keyring,
    local_signer,
    principal,
)

SIGNER = local_signer()  # one random audit key per test module


def test_local_provider_binds_context_and_master_key() -> None:
    provider = local_key_provider()
    key = provider.generate_data_key({"family": "f1"})
    assert len(key.plaintext) == 32 and key.plaintext not in key.wrapped
    assert provider.decrypt_data_key(key.wrapped, key_id=key.key_id,
                                     context={"family": "f1"}) == key.plaintext
    with pytest.raises(KeyUnavailable):
        provider.decrypt_data_key(key.wrapped, key_id=key.key_id, context={"family": "f2"})
    other = LocalDataKeyProvider(os.urandom(32))
    with pytest.raises(KeyUnavailable):
        other.decrypt_data_key(key.wrapped, key_id=key.key_id, context={"family": "f1"})
    with pytest.raises(ValueError, match="32 bytes"):
        LocalDataKeyProvider(b"short")


def test_kms_provider_round_trip_and_context(kms_provider: KmsDataKeyProvider) -> None:
    key = kms_provider.generate_data_key({"family": "f1"})
    assert len(key.plaintext) == 32
    assert kms_provider.decrypt_data_key(key.wrapped, key_id=key.key_id,
                                         context={"family": "f1"}) == key.plaintext
    with pytest.raises(KeyUnavailable):
        kms_provider.decrypt_data_key(key.wrapped, key_id=key.key_id,
                                      context={"family": "f2"})


def test_sealed_value_is_bound_to_its_aad() -> None:
    key = os.urandom(32)
    sealed = seal(key, "secret-token", {"family": "a", "connection": "c1", "field": "access"})
    assert b"secret-token" not in sealed.ciphertext
    assert open_sealed(key, sealed, {"family": "a", "connection": "c1",
                                     "field": "access"}) == "secret-token"
    for aad in ({"family": "a", "connection": "c2", "field": "access"},
                {"family": "b", "connection": "c1", "field": "access"},
                {"family": "a", "connection": "c1", "field": "refresh"}):
        with pytest.raises(KeyUnavailable):
            open_sealed(key, sealed, aad)
    with pytest.raises(KeyUnavailable):
        open_sealed(os.urandom(32), sealed, {"family": "a", "connection": "c1",
                                              "field": "access"})


def _audit_actions(db: Database, family_id: object) -> list[str]:
    return [r["action"] for r in db.fetch_all(
        "SELECT action FROM audit_log WHERE family_id = :f ORDER BY seq", {"f": family_id})]


def _shred_scenario(db: Database, keyring: FamilyKeyring) -> None:
    owner = principal("owner")
    family = families_uc.create_family(db, SIGNER, owner, name="Shred me")
    assert keyring.store.get(family.id) is None  # created on first use, not before
    conn = add_connection(db, SIGNER, keyring, owner, family.id, provider_ref="conn-ref-123")
    stored = keyring.store.get(family.id)
    assert stored is not None and stored.context == {"family": str(family.id)}
    row = db.fetch_one("SELECT c::text AS r, provider_ref_ciphertext, provider_ref_nonce "
                       "FROM connections c WHERE id = :id", {"id": conn.id})
    assert row is not None
    assert "conn-ref-123" not in row["r"]
    backup = SealedValue(ciphertext=bytes(row["provider_ref_ciphertext"]),
                         nonce=bytes(row["provider_ref_nonce"]))

    target = DatabaseSyncTargets(db, keyring).load(str(conn.id))
    assert target.connection.provider_connection_id == "conn-ref-123"

    families_uc.delete_family(db, SIGNER, keyring, owner, family.id)

    assert keyring.store.get(family.id) is None
    assert db.fetch_one("SELECT 1 AS x FROM connections WHERE family_id = :f",
                        {"f": family.id}) is None
    assert _audit_actions(db, family.id)[-2:] == ["family.delete", "family.key.destroy"]
    with pytest.raises(KeyUnavailable):
        keyring.opening_key(family.id)
    # A fresh key for the same family and context does not open old ciphertext.
    other_key = keyring.provider.generate_data_key(families_uc.family_key_context(family.id))
    with pytest.raises(KeyUnavailable):
        open_sealed(other_key.plaintext, backup, provider_ref_aad(family.id, conn.id))


def test_crypto_shredding_with_local_key(postgres_db: Database) -> None:
    _shred_scenario(postgres_db, local_keyring(postgres_db))
    rows = postgres_db.fetch_all("SELECT wrapped_key, destroyed_at FROM family_keys")
    assert len(rows) == 1
    assert rows[0]["wrapped_key"] is None and rows[0]["destroyed_at"] is not None


def test_crypto_shredding_with_kms_and_dynamodb(
    postgres_db: Database, kms_provider: KmsDataKeyProvider,
    dynamodb_store: DynamoDbFamilyKeyStore,
) -> None:
    _shred_scenario(postgres_db, FamilyKeyring(kms_provider, dynamodb_store))
    # Lambda mode keeps no key material in the database at all.
    assert postgres_db.fetch_all("SELECT * FROM family_keys") == []


def test_kms_key_record_names_provider_and_context(
    postgres_db: Database, kms_provider: KmsDataKeyProvider,
    dynamodb_store: DynamoDbFamilyKeyStore,
) -> None:
    keyring = FamilyKeyring(kms_provider, dynamodb_store)
    family = families_uc.create_family(postgres_db, SIGNER, principal("owner"), name="K")
    data_key = keyring.sealing_key(family.id)
    stored = dynamodb_store.get(family.id)
    assert stored is not None
    assert stored.provider == "kms" and stored.key_id.startswith("arn:aws:kms:")
    assert stored.context == {"family": str(family.id)}
    assert data_key not in stored.wrapped
    assert keyring.sealing_key(family.id) == data_key == keyring.opening_key(family.id)


def test_key_of_one_family_does_not_unwrap_for_another(
    postgres_db: Database, kms_provider: KmsDataKeyProvider,
    dynamodb_store: DynamoDbFamilyKeyStore,
) -> None:
    keyring = FamilyKeyring(kms_provider, dynamodb_store)
    a = families_uc.create_family(postgres_db, SIGNER, principal("owner"), name="A")
    b = families_uc.create_family(postgres_db, SIGNER, principal("owner"), name="B")
    keyring.sealing_key(a.id)
    stolen = dynamodb_store.get(a.id)
    assert stolen is not None
    # Someone with PutItem copies family A's wrapped key onto family B: KMS refuses it
    # because the key is unwrapped under B's encryption context.
    assert dynamodb_store.put_if_absent(b.id, stolen) == stolen
    with pytest.raises(KeyUnavailable):
        keyring.opening_key(b.id)


def test_local_store_gives_no_backup_guarantee(postgres_db: Database) -> None:
    """Control case: the local store keeps wrapped keys in the database, so a database
    backup still unwraps them after deletion. This is why Lambda uses the DynamoDB store
    (see ``test_key_store_backup.py``)."""
    keyring = local_keyring(postgres_db)
    family = families_uc.create_family(postgres_db, SIGNER, principal("owner"), name="Local")
    data_key = keyring.sealing_key(family.id)
    backup = postgres_db.fetch_all("SELECT * FROM family_keys")
    keyring.destroy(family.id)
    with pytest.raises(KeyUnavailable):
        keyring.opening_key(family.id)
    (row,) = backup
    assert keyring.provider.decrypt_data_key(
        bytes(row["wrapped_key"]), key_id=row["key_id"],
        context=families_uc.family_key_context(family.id)) == data_key
