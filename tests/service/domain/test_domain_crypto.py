"""Envelope encryption of consent tokens and crypto-shredding (local key and KMS via moto)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from service.crypto import (
    DataKeyProvider,
    KeyUnavailable,
    KmsDataKeyProvider,
    LocalDataKeyProvider,
    SealedValue,
    open_sealed,
    seal,
)
from service.db.port import Database
from service.repositories import families as family_repo
from service.repositories import users as user_repo
from service.use_cases import connections as connections_uc
from service.use_cases import families as families_uc
from tests.service.domain.helpers import local_key_provider, principal


@pytest.fixture
def kms_provider() -> Iterator[KmsDataKeyProvider]:
    with mock_aws():
        client = boto3.client("kms", region_name="eu-west-2")
        key_id = client.create_key(Description="consent tokens")["KeyMetadata"]["Arn"]
        yield KmsDataKeyProvider(client, key_id)


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


def _shred_scenario(db: Database, provider: DataKeyProvider) -> None:
    owner = principal("owner")
    family = families_uc.create_family(db, provider, owner, name="Shred me")
    conn = connections_uc.record_consent(
        db, provider, owner, family.id, provider="bank",
        tokens=connections_uc.ConsentTokens("access-123", "refresh-456"),
        consent_expires_at=None,
    )
    row = db.fetch_one("SELECT c::text AS r, access_token_ciphertext, access_token_nonce "
                       "FROM connections c WHERE id = :id", {"id": conn.id})
    assert row is not None
    assert "access-123" not in row["r"] and "refresh-456" not in row["r"]
    backup = SealedValue(ciphertext=bytes(row["access_token_ciphertext"]),
                         nonce=bytes(row["access_token_nonce"]))

    with db.transaction() as tx:
        user = user_repo.ensure_user(tx, owner)
        scope = family_repo.find_membership(tx, user.id, family.id)
        assert scope is not None
        tokens = connections_uc.read_consent_tokens(tx, provider, scope, conn.id)
        assert (tokens.access_token, tokens.refresh_token) == ("access-123", "refresh-456")

    families_uc.delete_family(db, owner, family.id)

    key_row = db.fetch_one("SELECT wrapped_key, destroyed_at FROM family_keys "
                           "WHERE family_id = :f", {"f": family.id})
    assert key_row is not None
    assert key_row["wrapped_key"] is None and key_row["destroyed_at"] is not None
    assert db.fetch_one("SELECT 1 AS x FROM connections WHERE family_id = :f",
                        {"f": family.id}) is None
    # A restored backup of the connections table is useless: no wrapped key exists any more,
    # so nothing can produce the data key the ciphertext needs.
    assert families_uc.family_key_context(family.id) == {"family": str(family.id)}
    with pytest.raises(KeyUnavailable):
        connections_uc._family_data_key(db, provider, family.id)
    other_key = provider.generate_data_key(families_uc.family_key_context(family.id))
    with pytest.raises(KeyUnavailable):
        open_sealed(other_key.plaintext, backup,
                    connections_uc.token_aad(family.id, conn.id, "access_token"))


def test_crypto_shredding_with_local_key(postgres_db: Database) -> None:
    _shred_scenario(postgres_db, local_key_provider())


def test_crypto_shredding_with_kms(postgres_db: Database,
                                   kms_provider: KmsDataKeyProvider) -> None:
    _shred_scenario(postgres_db, kms_provider)


def test_family_key_record_names_provider_and_context(postgres_db: Database,
                                                      kms_provider: KmsDataKeyProvider) -> None:
    family = families_uc.create_family(postgres_db, kms_provider, principal("owner"), name="K")
    row = postgres_db.fetch_one("SELECT provider, key_id, encryption_context FROM family_keys "
                                "WHERE family_id = :f", {"f": family.id})
    assert row is not None
    assert row["provider"] == "kms" and row["key_id"].startswith("arn:aws:kms:")
    assert row["encryption_context"] == {"family": str(family.id)}
