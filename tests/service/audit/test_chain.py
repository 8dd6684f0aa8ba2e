"""The audit chain: keyed links, appended with the change, anchored outside the database.

Attacks are run as the database owner would (triggers disabled, rows rewritten with
valid-looking SHA-256 links); each must be reported by ``verify_chain``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import boto3
import psycopg
import pytest
from moto import mock_aws

from service.audit import (
    AuditKeys,
    AuditSigner,
    DirectoryAnchorStore,
    S3AnchorStore,
    canonical_entry,
    take_anchor,
    verify_chain,
)
from service.audit.access_log import DATA_ACCESS_LOGGER
from service.audit.keys import AuditKeyError
from service.db.port import Database, DatabaseError
from service.db.postgres import PostgresDatabase
from service.domain.errors import PermissionDeniedError
from service.domain.queries import TransactionQuery
from service.use_cases import families as families_uc
from service.use_cases import invitations as invitations_uc
from service.use_cases import transactions as tx_uc
from service.use_cases._common import audit, caller
from tests.service.domain.helpers import World, build_world, local_keyring, principal

KEYS = AuditKeys.generate()
SIGNER = AuditSigner(KEYS)


@pytest.fixture
def world(postgres_db: Database) -> World:
    return build_world(postgres_db, local_keyring(postgres_db), signer=SIGNER)


def _as_owner(url: str, *statements: str) -> None:
    """Change audit rows as the database owner could: triggers off, change, triggers on."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("audit_log", "audit_heads"):
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER".encode())
        for sql in statements:
            conn.execute(sql.encode())
        for table in ("audit_log", "audit_heads"):
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER".encode())


def _problems(db: Database, store: DirectoryAnchorStore | None = None) -> list[str]:
    anchor = None if store is None else store.latest()
    return verify_chain(db, KEYS, anchor=anchor).problems


def test_intact_chains_verify_against_their_anchor(world: World, tmp_path: Path) -> None:
    store = DirectoryAnchorStore(tmp_path)
    anchor, _ = take_anchor(world.db, store)
    assert len(anchor.heads) == 2
    result = verify_chain(world.db, KEYS, anchor=store.latest())
    assert result.ok, result.problems
    assert result.families_checked == 2
    assert result.entries_checked == int(
        world.db.fetch_one("SELECT count(*) AS n FROM audit_log")["n"])  # type: ignore[index]
    assert result.anchored_at == anchor.taken_at.isoformat()


def test_a_forged_append_is_reported(world: World, postgres_owner_url: str) -> None:
    """The forger moves the head and links with SHA-256 the way 0001 did: no key, no pass."""
    head = world.db.fetch_one("SELECT chain_index, hash FROM audit_heads WHERE family_id = :f",
                              {"f": world.family})
    assert head is not None
    index, prev = int(head["chain_index"]) + 1, head["hash"]
    at = datetime(2025, 6, 1, tzinfo=UTC)
    for key_id in (KEYS.current, "sha256"):
        canonical = canonical_entry(family_id=world.family, index=index, actor="user:x",
                                    action="member.role.owner", target_type="membership",
                                    target_id=None, at=at, key_id=key_id)
        forged = hashlib.sha256(prev.encode() + canonical).hexdigest()
        _as_owner(postgres_owner_url, f"""
            INSERT INTO audit_log (family_id, chain_index, actor, action, target_type,
                                   target_id, at, key_id, prev_hash, hash)
            VALUES ('{world.family}', {index}, 'user:x', 'member.role.owner', 'membership',
                    NULL, '{at.isoformat()}', '{key_id}', '{prev}', '{forged}')""",
                  f"UPDATE audit_heads SET chain_index = {index}, hash = '{forged}' "
                  f"WHERE family_id = '{world.family}'")
        problems = _problems(world.db)
        assert any(f"entry {index}" in p and "forged" in p for p in problems), problems
        _as_owner(postgres_owner_url, f"DELETE FROM audit_log WHERE chain_index = {index} "
                                f"AND family_id = '{world.family}'",
                  f"UPDATE audit_heads SET chain_index = {index - 1}, hash = '{prev}' "
                  f"WHERE family_id = '{world.family}'")
        assert _problems(world.db) == []


@pytest.mark.parametrize("sql", [
    "UPDATE audit_log SET action = 'nothing.happened' WHERE chain_index = 2",
    "UPDATE audit_log SET actor = 'user:someone-else' WHERE chain_index = 1",
    "UPDATE audit_log SET at = at + interval '1 second' WHERE chain_index = 2",
    "UPDATE audit_log SET key_id = 'sha256' WHERE chain_index = 2",
])
def test_an_edited_entry_is_reported(world: World, postgres_owner_url: str, sql: str) -> None:
    assert _problems(world.db) == []
    _as_owner(postgres_owner_url, sql)
    assert any("does not match its hash" in p or "forged" in p for p in _problems(world.db))


def test_a_deleted_tail_is_reported_even_with_the_head_rewritten(
    world: World, postgres_owner_url: str, tmp_path: Path
) -> None:
    store = DirectoryAnchorStore(tmp_path)
    take_anchor(world.db, store)
    last = world.db.fetch_one(
        "SELECT chain_index, prev_hash FROM audit_log WHERE family_id = :f "
        "ORDER BY chain_index DESC LIMIT 1", {"f": world.family})
    assert last is not None
    index = int(last["chain_index"])
    _as_owner(postgres_owner_url,
              f"DELETE FROM audit_log WHERE family_id = '{world.family}' "
              f"AND chain_index = {index}",
              f"UPDATE audit_heads SET chain_index = {index - 1}, hash = '{last['prev_hash']}' "
              f"WHERE family_id = '{world.family}'")
    assert _problems(world.db) == []  # consistent inside the database...
    problems = _problems(world.db, store)  # ...but not with the anchor
    assert any("tail deleted" in p and str(world.family) in p for p in problems), problems


def test_a_deleted_chain_is_reported(world: World, postgres_owner_url: str, tmp_path: Path) -> None:
    store = DirectoryAnchorStore(tmp_path)
    take_anchor(world.db, store)
    _as_owner(postgres_owner_url, f"DELETE FROM audit_log WHERE family_id = '{world.other_family}'",
              f"DELETE FROM audit_heads WHERE family_id = '{world.other_family}'")
    problems = _problems(world.db)
    assert any("no audit chain" in p and str(world.other_family) in p for p in problems)
    # Even with the family row gone too, the anchor still knows the chain.
    with psycopg.connect(postgres_owner_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"DELETE FROM families WHERE id = '{world.other_family}'".encode())
    problems = _problems(world.db, store)
    assert any("chain deleted" in p and str(world.other_family) in p for p in problems)


def test_deleted_families_keep_a_chain_that_verifies(world: World, tmp_path: Path) -> None:
    store = DirectoryAnchorStore(tmp_path)
    families_uc.delete_family(world.db, SIGNER, world.keys, principal("outsider"),
                              world.other_family)
    take_anchor(world.db, store)
    assert _problems(world.db, store) == []
    actions = [r["action"] for r in world.db.fetch_all(
        "SELECT action FROM audit_log WHERE family_id = :f ORDER BY chain_index",
        {"f": world.other_family})]
    assert actions[-2:] == ["family.delete", "family.key.destroy"]


def test_entries_keyed_before_a_rotation_still_verify(postgres_db: Database) -> None:
    old = AuditKeys.generate()
    new_key = b"n" * 32
    families_uc.create_family(postgres_db, AuditSigner(old), principal("owner"), name="Old")
    rotated = AuditKeys(current="2026-02", keys={**old.keys, "2026-02": new_key})
    families_uc.create_family(postgres_db, AuditSigner(rotated), principal("owner"), name="New")
    assert verify_chain(postgres_db, rotated).ok
    key_ids = {r["key_id"] for r in postgres_db.fetch_all("SELECT key_id FROM audit_log")}
    assert key_ids == {old.current, "2026-02"}
    # Without the retired key, its entries no longer verify.
    assert not verify_chain(postgres_db, AuditKeys(current="2026-02",
                                                   keys={"2026-02": new_key})).ok


def test_the_secret_format_carries_every_key_version() -> None:
    text = json.dumps({"current": "b", "keys": {"a": base64.b64encode(b"a" * 32).decode(),
                                                "b": base64.b64encode(b"b" * 32).decode()}})
    keys = AuditKeys.from_secret_string(text)
    assert keys.current == "b" and set(keys.keys) == {"a", "b"}


def test_the_generated_secret_form_is_read_and_short_keys_refused() -> None:
    generated = "A1b2C3d4" * 8  # what GenerateSecretString produces: 64 alphanumerics
    keys = AuditKeys.from_secret_string(json.dumps({"current": "k1", "k1": generated}))
    assert keys.current == "k1" and len(keys.keys["k1"]) >= 32
    with pytest.raises(AuditKeyError):
        AuditKeys.from_secret_string(json.dumps({"current": "k1", "k1": "short!"}))
    with pytest.raises(AuditKeyError):
        AuditKeys.from_secret_string(json.dumps({"current": "k1"}))


def test_s3_anchor_store_keeps_anchors_under_compliance_retention(world: World) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-2")
        s3.create_bucket(Bucket="anchors", ObjectLockEnabledForBucket=True,
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        s3.put_object_lock_configuration(Bucket="anchors", ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}}})
        store = S3AnchorStore("anchors", s3, retain_days=400)
        assert store.latest() is None
        first, _ = take_anchor(world.db, store,
                               clock=lambda: datetime(2025, 1, 1, tzinfo=UTC))
        second, location = take_anchor(world.db, store,
                                       clock=lambda: datetime(2025, 1, 2, tzinfo=UTC))
        latest = store.latest()
        assert latest == second and latest != first
        key = location.removeprefix("s3://anchors/")
        assert s3.head_object(Bucket="anchors", Key=key)["ObjectLockMode"] == "COMPLIANCE"
        version = s3.list_object_versions(Bucket="anchors", Prefix=key)["Versions"][0]
        with pytest.raises(s3.exceptions.ClientError):
            s3.delete_object(Bucket="anchors", Key=key, VersionId=version["VersionId"])
        assert verify_chain(world.db, KEYS, anchor=latest).ok


def test_audit_log_is_append_only_even_for_its_owner(world: World) -> None:
    for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log",
                "TRUNCATE audit_log"):
        with pytest.raises(DatabaseError):
            world.db.execute(sql)
    assert _problems(world.db) == []


def test_concurrent_appends_do_not_fork_the_chain(postgres_url: str) -> None:
    db = PostgresDatabase(postgres_url)
    try:
        family = families_uc.create_family(db, SIGNER, principal("owner"), name="Busy")

        def work(n: int) -> None:
            for i in range(8):
                with db.transaction() as tx:
                    user = caller(tx, principal("owner"))
                    audit(tx, SIGNER, family.id, user, "test.append", ("n", f"{n}-{i}"))

        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(work, range(6)))
        result = verify_chain(db, KEYS, family_id=family.id)
        assert result.ok, result.problems
        assert result.entries_checked == 1 + 6 * 8
        indexes = [r["chain_index"] for r in db.fetch_all(
            "SELECT chain_index FROM audit_log WHERE family_id = :f ORDER BY seq",
            {"f": family.id})]
        assert indexes == list(range(1, 50))
    finally:
        db.close()


def test_failed_use_case_leaves_no_audit_entry(world: World) -> None:
    before = world.db.fetch_all("SELECT seq FROM audit_log")
    with pytest.raises(PermissionDeniedError):
        invitations_uc.invite(world.db, SIGNER, principal("adult"), world.family,
                              email="x@example.com", role=invitations_uc.Role.CHILD)
    assert world.db.fetch_all("SELECT seq FROM audit_log") == before


def test_reads_go_to_the_access_log_not_the_chain(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    before = world.db.fetch_all("SELECT seq FROM audit_log")
    with caplog.at_level(logging.INFO, logger=DATA_ACCESS_LOGGER):
        tx_uc.list_transactions(world.db, principal("child"), world.family,
                                TransactionQuery(text="purchase"))
    assert world.db.fetch_all("SELECT seq FROM audit_log") == before
    [record] = [r for r in caplog.records if r.name == DATA_ACCESS_LOGGER]
    line = vars(record)
    assert (line["action"], line["target_type"], line["family_id"]) == (
        "transactions.list", "family", str(world.family))
    assert line["actor"].startswith("user:")
    text = json.dumps({k: str(v) for k, v in line.items()})
    assert "@" not in text and "purchase" not in text and "-100" not in text
