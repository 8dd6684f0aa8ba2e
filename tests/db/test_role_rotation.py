"""Rotating the app role's password through the Data API: Secrets Manager on moto, the
local Data API resolving each secretArn through that Secrets Manager, as AWS does.

moto cannot invoke a rotation Lambda here (it would need Docker), so the tests play
Secrets Manager's part: they enable rotation, attach ``AWSPENDING`` to a new, empty
version and call the handler's four steps with that token, as the service does.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import psycopg
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.secretsmanager.models import secretsmanager_backends

from devtools.embedded import OWNER, with_database, with_user
from devtools.local_data_api import LocalDataApi, secrets_manager_credentials
from service.db import role_rotation
from service.db.role_rotation import RoleRotation, RotationError, scram_sha256_verifier
from tests.fixtures.postgres import TEST_CLUSTER_ARN, database_name, rds_data_client

REGION = "eu-west-2"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@dataclass
class World:
    secrets: Any
    rotation: RoleRotation
    app_secret_arn: str
    owner_secret_arn: str
    role: str
    admin_url: str


def _start_rotation(secret_name: str) -> str:
    """What Secrets Manager does before calling the function: a pending, empty version."""
    secret = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[secret_name]
    secret.rotation_requested = secret.rotation_enabled = True
    token = str(uuid.uuid4())
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {"createdate": int(time.time()), "version_id": token,
                              "version_stages": ["AWSPENDING"]}
    return token


@pytest.fixture
def world(pg_admin_url: str, postgres_owner_url: str) -> Iterator[World]:
    role = f"rot_{uuid.uuid4().hex[:12]}"  # a role of this test only: rotation changes it
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name=REGION)
        owner_arn = secrets.create_secret(
            Name=f"owner-{role}", SecretString=json.dumps({"username": OWNER, "password": "-"})
        )["ARN"]
        app_arn = secrets.create_secret(
            Name=f"app-{role}",
            SecretString=json.dumps({"username": role, "password": "initial-unused",
                                     "engine": "postgres"}),
        )["ARN"]
        server = LocalDataApi(postgres_url=pg_admin_url,
                              resolve_credentials=secrets_manager_credentials(secrets))
        endpoint = server.start()
        rotation = RoleRotation(
            secrets_client=secrets, rds_data_client=rds_data_client(endpoint),
            cluster_arn=TEST_CLUSTER_ARN, owner_secret_arn=owner_arn,
            database=database_name(postgres_owner_url),
        )
        try:
            yield World(secrets, rotation, app_arn, owner_arn, role, postgres_owner_url)
        finally:
            server.stop()
            with psycopg.connect(pg_admin_url, autocommit=True) as admin:
                admin.execute(f'DROP ROLE IF EXISTS "{role}"'.encode())


def _rotate(world: World) -> str:
    token = _start_rotation(f"app-{world.role}")
    for step in STEPS:
        world.rotation.run(step, world.app_secret_arn, token)
    return token


def _login(world: World, password: str) -> str:
    url = with_user(with_database(world.admin_url, database_name(world.admin_url)),
                    world.role, password)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT current_user").fetchone()
    assert row is not None
    return str(row[0])


def _current(world: World) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        world.secrets.get_secret_value(SecretId=world.app_secret_arn,
                                       VersionStage="AWSCURRENT")["SecretString"])
    return value


def test_rotation_sets_a_new_password_that_logs_in_and_retires_the_old(world: World) -> None:
    token = _rotate(world)
    first = _current(world)
    assert first["username"] == world.role and first["engine"] == "postgres"
    assert first["password"] != "initial-unused" and len(first["password"]) == 40
    assert _login(world, first["password"]) == world.role
    stages = world.secrets.describe_secret(SecretId=world.app_secret_arn)["VersionIdsToStages"]
    assert "AWSCURRENT" in stages[token]  # (Secrets Manager itself drops AWSPENDING after)

    _rotate(world)
    second = _current(world)
    assert second["password"] != first["password"]
    assert _login(world, second["password"]) == world.role
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _login(world, first["password"])
    # The probe secrets of testSecret are gone.
    names = [s["Name"] for s in world.secrets.list_secrets()["SecretList"]]
    assert not [n for n in names if "rotation-test" in n]


def test_each_step_is_idempotent(world: World) -> None:
    token = _start_rotation(f"app-{world.role}")
    for step in STEPS:
        world.rotation.run(step, world.app_secret_arn, token)
        world.rotation.run(step, world.app_secret_arn, token)  # Secrets Manager retries
    assert _login(world, _current(world)["password"]) == world.role


def test_the_handler_reads_its_configuration_from_the_environment(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(role_rotation, "_rotation", world.rotation)
    token = _start_rotation(f"app-{world.role}")
    for step in STEPS:
        role_rotation.handler(
            {"Step": step, "SecretId": world.app_secret_arn, "ClientRequestToken": token}, None)
    assert _login(world, _current(world)["password"]) == world.role
    monkeypatch.setattr(role_rotation, "_rotation", None)
    monkeypatch.delenv("DB_OWNER_SECRET_ARN", raising=False)
    with pytest.raises(RotationError, match="DB_OWNER_SECRET_ARN"):
        role_rotation.handler({"Step": "createSecret", "SecretId": "x",
                               "ClientRequestToken": "t"}, None)


def test_a_version_not_pending_is_refused(world: World) -> None:
    _start_rotation(f"app-{world.role}")
    with pytest.raises(RotationError, match="no stage for rotation"):
        world.rotation.run("createSecret", world.app_secret_arn, str(uuid.uuid4()))
    with pytest.raises(RotationError, match="unknown rotation step"):
        world.rotation.run("dropEverything", world.app_secret_arn, "t")


def test_the_owner_secret_is_never_rotated_by_this_function(world: World) -> None:
    with pytest.raises(RotationError, match="not the owner"):
        world.rotation.run("createSecret", world.owner_secret_arn, "t")
    # Nor an app secret that names the owner: the password of the owner stays as it is.
    world.secrets.put_secret_value(
        SecretId=world.app_secret_arn,
        SecretString=json.dumps({"username": OWNER, "password": "x"}))
    token = _start_rotation(f"app-{world.role}")
    world.rotation.run("createSecret", world.app_secret_arn, token)
    with pytest.raises(RotationError, match="must not be the owner"):
        world.rotation.run("setSecret", world.app_secret_arn, token)


def test_a_privileged_role_is_refused(world: World, pg_admin_url: str) -> None:
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{world.role}" LOGIN CREATEROLE'.encode())
    token = _start_rotation(f"app-{world.role}")
    world.rotation.run("createSecret", world.app_secret_arn, token)
    with pytest.raises(RotationError, match="privileged attributes"):
        world.rotation.run("setSecret", world.app_secret_arn, token)


def test_the_password_never_reaches_the_sql_text() -> None:
    sql = role_rotation.set_password_sql("app_runtime", "hunter2-secret")
    assert "hunter2" not in sql and "SCRAM-SHA-256$4096:" in sql
    with pytest.raises(RotationError):
        role_rotation.set_password_sql('app"; DROP TABLE x; --', "p")


def test_the_scram_verifier_matches_postgresql(pg_admin_url: str) -> None:
    # PostgreSQL accepts the verifier as the stored secret and then authenticates with it.
    role = f"scram_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(f"""CREATE ROLE "{role}" LOGIN PASSWORD
                          '{scram_sha256_verifier("correct horse")}'""".encode())
    try:
        with psycopg.connect(with_user(pg_admin_url, role, "correct horse")) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (role,)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(with_user(pg_admin_url, role, "wrong horse")).close()
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{role}"'.encode())
