"""Contract of :class:`FamilyKeyStore`: DynamoDB (moto) and PostgreSQL adapters alike."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from service.crypto import FamilyKeyring, KeyUnavailable
from service.crypto.family_key_store import (
    DynamoDbFamilyKeyStore,
    FamilyKeyStore,
    PostgresFamilyKeyStore,
    WrappedKey,
)
from service.db.postgres import PostgresDatabase
from service.use_cases import families as families_uc
from tests.service.crypto.conftest import REGION, TABLE, create_key_table
from tests.service.domain.helpers import local_key_provider, local_signer, principal

SIGNER = local_signer()  # one random audit key per test module


def wrapped(tag: str, family_id: UUID) -> WrappedKey:
    return WrappedKey(provider="local", key_id=f"key-{tag}", context={"family": str(family_id)},
                      wrapped=os.urandom(60), created_at=datetime.now(UTC).replace(microsecond=0))


class Env:
    """A store under test plus a way to create a family it may hold a key for."""

    def __init__(self, store: FamilyKeyStore, new_family: Callable[[], UUID],
                 operations: list[str] | None = None) -> None:
        self.store = store
        self.new_family = new_family
        self.operations = operations


@pytest.fixture
def atomic_moto_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give moto DynamoDB's per-item write atomicity.

    DynamoDB evaluates a ``ConditionExpression`` and writes the item atomically; moto's
    in-memory backend checks then writes without a lock, so two racing threads can
    both pass ``attribute_not_exists``. Serialising the emulator's item operations
    restores the real service's behaviour (our code is untouched).
    """
    lock = threading.Lock()
    for name in ("put_item", "get_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, atomic)


@pytest.fixture(params=["dynamodb", "postgres"])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    if request.param == "dynamodb":
        request.getfixturevalue("atomic_moto_writes")
        with mock_aws():
            create_key_table()
            client = boto3.client("dynamodb", region_name=REGION)
            operations: list[str] = []

            def record(model: Any, **_: Any) -> None:
                operations.append(model.name)

            client.meta.events.register("before-call.dynamodb", record)
            yield Env(DynamoDbFamilyKeyStore(TABLE, client), uuid4, operations)
    else:
        db = PostgresDatabase(request.getfixturevalue("postgres_url"))
        try:
            # family_keys references families: keys are only ever stored for real ones.
            yield Env(PostgresFamilyKeyStore(db), lambda: families_uc.create_family(
                db, SIGNER, principal(f"owner-{uuid4().hex[:8]}"), name="F").id)
        finally:
            db.close()


def test_put_get_destroy_round_trip(env: Env) -> None:
    fid = env.new_family()
    assert env.store.get(fid) is None
    key = wrapped("a", fid)
    assert env.store.put_if_absent(fid, key) == key
    assert env.store.get(fid) == key
    env.store.destroy(fid)
    assert env.store.get(fid) is None
    env.store.destroy(fid)  # idempotent
    env.store.destroy(env.new_family())  # never had a key
    if env.operations is not None:
        assert set(env.operations) == {"GetItem", "PutItem", "DeleteItem"}


def test_second_put_loses_and_reads_the_first(env: Env) -> None:
    fid, other = env.new_family(), env.new_family()
    first, second = wrapped("first", fid), wrapped("second", fid)
    assert env.store.put_if_absent(fid, first) == first
    assert env.store.put_if_absent(fid, second) == first
    assert env.store.get(fid) == first
    assert env.store.get(other) is None  # keys are per family


def test_a_destroyed_family_key_can_be_replaced_but_not_recovered(env: Env) -> None:
    fid = env.new_family()
    old = wrapped("old", fid)
    env.store.put_if_absent(fid, old)
    env.store.destroy(fid)
    new = wrapped("new", fid)
    assert env.store.put_if_absent(fid, new) == new
    assert env.store.get(fid) == new


def test_concurrent_first_puts_end_with_one_key(env: Env) -> None:
    families = [env.new_family() for _ in range(5)]
    for fid in families:
        candidates = [wrapped(str(i), fid) for i in range(4)]
        barrier = threading.Barrier(len(candidates))

        def put(key: WrappedKey, fid: UUID = fid, barrier: threading.Barrier = barrier
                ) -> WrappedKey:
            barrier.wait()
            return env.store.put_if_absent(fid, key)

        with ThreadPoolExecutor(max_workers=len(candidates)) as pool:
            results = list(pool.map(put, candidates))
        winner = env.store.get(fid)
        assert winner in candidates
        assert results == [winner] * len(candidates)
    if env.operations is not None:
        # Per family: 4 conditional puts, 3 losers read the winner back, 1 final read.
        assert env.operations.count("PutItem") == 5 * 4
        assert env.operations.count("GetItem") == 5 * (3 + 1)


def test_concurrent_first_seals_share_one_data_key(env: Env) -> None:
    keyring = FamilyKeyring(local_key_provider(), env.store)
    fid = env.new_family()
    barrier = threading.Barrier(4)

    def first_use(_: int) -> bytes:
        barrier.wait()
        return keyring.sealing_key(fid)

    with ThreadPoolExecutor(max_workers=4) as pool:
        keys = set(pool.map(first_use, range(4)))
    assert len(keys) == 1
    assert keys == {keyring.opening_key(fid)}


def test_opening_never_creates_a_key(env: Env) -> None:
    keyring = FamilyKeyring(local_key_provider(), env.store)
    fid = env.new_family()
    with pytest.raises(KeyUnavailable):
        keyring.opening_key(fid)
    assert env.store.get(fid) is None


def test_dynamodb_item_layout() -> None:
    with mock_aws():
        create_key_table()
        store = DynamoDbFamilyKeyStore(TABLE, boto3.client("dynamodb", region_name=REGION))
        fid = uuid4()
        key = wrapped("layout", fid)
        store.put_if_absent(fid, key)
        item = boto3.client("dynamodb", region_name=REGION).get_item(
            TableName=TABLE, Key={"family_id": {"S": str(fid)}})["Item"]
    assert item == {
        "family_id": {"S": str(fid)}, "provider": {"S": "local"}, "key_id": {"S": "key-layout"},
        "context": {"S": f'{{"family":"{fid}"}}'}, "wrapped_key": {"B": key.wrapped},
        "created_at": {"S": key.created_at.isoformat()},
    }


def test_dynamodb_malformed_item_is_unavailable_not_a_crash() -> None:
    with mock_aws():
        create_key_table()
        client = boto3.client("dynamodb", region_name=REGION)
        fid = uuid4()
        client.put_item(TableName=TABLE, Item={"family_id": {"S": str(fid)},
                                               "provider": {"S": "kms"}})
        with pytest.raises(KeyUnavailable, match="malformed"):
            DynamoDbFamilyKeyStore(TABLE, client).get(fid)
