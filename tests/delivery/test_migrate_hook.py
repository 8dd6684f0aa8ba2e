"""The migration hook on a real PostgreSQL, through both adapters, once, twice and concurrently."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.local_data_api import DatabaseCredentials, LocalDataApi
from service import deployment_contract as contract
from service.db.data_api import DataApiDatabase
from service.db.migrate_hook import handle, handler
from service.db.migrations import DEFAULT_MIGRATIONS_DIR, load_migrations
from service.db.port import Database
from service.db.postgres import PostgresDatabase
from service.settings import Settings, SettingsError
from tests.delivery.codedeploy_server import LocalCodeDeploy
from tests.fixtures.postgres import (
    ADAPTERS,
    OWNER,
    TEST_CLUSTER_ARN,
    TEST_OWNER_SECRET_ARN,
    database_name,
    make_data_api_database,
    rds_data_client,
)

CLUSTER_ARN_ENV, OWNER_SECRET_ENV = contract.DB_CLUSTER_ARN, contract.DB_OWNER_SECRET_ARN
DB_NAME_ENV, RDS_DATA_ENDPOINT_ENV = contract.DB_NAME, "RDS_DATA_ENDPOINT_URL"

OWNER_SECRET_ARN = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:db-owner-AbCdEf"
APP_SECRET_ARN = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:db-app-AbCdEf"
SHIPPED = [m.name for m in load_migrations(DEFAULT_MIGRATIONS_DIR)]


def hook_event(execution_id: str | None = None) -> dict[str, str]:
    return {
        "DeploymentId": "d-EXAMPLE111",
        "LifecycleEventHookExecutionId": execution_id or f"exec-{uuid.uuid4().hex}",
    }


@pytest.fixture
def codedeploy() -> Iterator[LocalCodeDeploy]:
    server = LocalCodeDeploy().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=ADAPTERS)
def open_database(
    request: pytest.FixtureRequest, empty_postgres_url: str
) -> Iterator[Callable[[], Database]]:
    """Opens adapters (one per simulated invocation) on one EMPTY database."""
    opened: list[Database] = []
    name = database_name(empty_postgres_url)

    def open_one() -> Database:
        db: Database
        if request.param == "postgres":
            db = PostgresDatabase(empty_postgres_url)
        else:
            client = request.getfixturevalue("local_rds_data_client")
            # Migrations run as the owner, never as the app role.
            db = make_data_api_database(client, name, secret_arn=TEST_OWNER_SECRET_ARN)
        opened.append(db)
        return db

    try:
        yield open_one
    finally:
        for db in opened:
            db.close()
        if request.param == "data_api":
            request.getfixturevalue("local_data_api_server").release_database(name)


def with_extra(tmp_path: Path, files: dict[str, str]) -> Path:
    """The shipped migrations plus ``files``, in a folder of their own.

    grants.toml must list every table exactly, so the tables ``files`` create are added.
    """
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in DEFAULT_MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(path, folder / path.name)
    grants = (DEFAULT_MIGRATIONS_DIR / "grants.toml").read_text()
    (folder / "grants.toml").write_text(
        grants + "".join(f'{table} = ["SELECT"]\n' for text in files.values()
                         for table in re.findall(r"CREATE TABLE (\w+)", text)))
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_hook_applies_pending_migrations_once_and_reports_each_run(
    open_database: Callable[[], Database], codedeploy: LocalCodeDeploy
) -> None:
    db = open_database()
    client = codedeploy.client()
    first, second = hook_event("exec-1"), hook_event("exec-2")

    assert handle(first, database=db, codedeploy=client) == {
        "status": "Succeeded", "applied": SHIPPED, "recorded": len(SHIPPED), "unknown": [],
    }
    assert handle(second, database=db, codedeploy=client)["applied"] == []

    assert codedeploy.backend.statuses == {
        ("d-EXAMPLE111", "exec-1"): "Succeeded",
        ("d-EXAMPLE111", "exec-2"): "Succeeded",
    }
    assert db.fetch_one("SELECT to_regclass('families') IS NOT NULL AS present") == {
        "present": True
    }


def test_concurrent_hooks_apply_each_file_exactly_once(
    open_database: Callable[[], Database], codedeploy: LocalCodeDeploy, tmp_path: Path
) -> None:
    folder = with_extra(tmp_path, {
        "9001_slow.sql": "SELECT pg_sleep(0.3); CREATE TABLE hook_probe (id int PRIMARY KEY);",
        "9002_seed.sql": "INSERT INTO hook_probe (id) VALUES (1);",
    })
    databases = [open_database() for _ in range(3)]
    results: dict[str, dict[str, Any]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(databases))

    def invoke(index: int, db: Database) -> None:
        execution_id = f"exec-{index}"
        start.wait()
        try:
            results[execution_id] = handle(
                hook_event(execution_id), database=db, codedeploy=codedeploy.client(),
                migrations_dir=folder,
            )
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=invoke, args=item) for item in enumerate(databases)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert {result["status"] for result in results.values()} == {"Succeeded"}
    applied = sorted(name for result in results.values() for name in result["applied"])
    assert applied == sorted([*SHIPPED, "9001_slow.sql", "9002_seed.sql"])
    assert set(codedeploy.backend.statuses.values()) == {"Succeeded"}
    assert len(codedeploy.backend.statuses) == 3
    assert databases[0].fetch_one("SELECT count(*) AS n FROM hook_probe") == {"n": 1}


def test_a_failing_migration_is_reported_failed_leaves_no_trace_and_is_retried(
    open_database: Callable[[], Database], codedeploy: LocalCodeDeploy, tmp_path: Path
) -> None:
    folder = with_extra(tmp_path, {
        "9001_half_broken.sql": "CREATE TABLE half (id int);\nSELECT no_such_function();",
    })
    db = open_database()

    result = handle(hook_event("exec-1"), database=db, codedeploy=codedeploy.client(),
                    migrations_dir=folder)

    assert result["status"] == "Failed"
    assert "no_such_function" in result["error"]
    assert codedeploy.backend.statuses == {("d-EXAMPLE111", "exec-1"): "Failed"}
    # The shipped files before it committed one by one; the broken one left nothing.
    assert db.fetch_one(
        "SELECT to_regclass('half') IS NULL AS absent,"
        " (SELECT count(*) FROM schema_migrations WHERE name LIKE '9%') AS n"
    ) == {"absent": True, "n": 0}

    (folder / "9001_half_broken.sql").unlink()
    (folder / "9001_fixed.sql").write_text("CREATE TABLE half (id int);")
    retry = handle(hook_event("exec-2"), database=db, codedeploy=codedeploy.client(),
                   migrations_dir=folder)
    assert (retry["status"], retry["applied"]) == ("Succeeded", ["9001_fixed.sql"])


def test_a_direct_run_returns_the_result_raises_on_failure_and_reports_nothing(
    open_database: Callable[[], Database], codedeploy: LocalCodeDeploy, tmp_path: Path
) -> None:
    db = open_database()
    assert handle({}, database=db, codedeploy=codedeploy.client())["applied"] == SHIPPED

    broken = with_extra(tmp_path, {"9001_broken.sql": "SELECT no_such_function();"})
    with pytest.raises(Exception, match="no_such_function"):
        handle({}, database=db, codedeploy=codedeploy.client(), migrations_dir=broken)
    assert codedeploy.backend.statuses == {}


def test_a_status_codedeploy_refuses_is_raised_so_lambda_retries(
    owner_postgres_db: PostgresDatabase, codedeploy: LocalCodeDeploy
) -> None:
    event = hook_event("exec-1")
    handle(event, database=owner_postgres_db, codedeploy=codedeploy.client())
    with pytest.raises(ClientError, match="LifecycleEventAlreadyCompletedException"):
        handle(event, database=owner_postgres_db, codedeploy=codedeploy.client())


def test_the_database_ahead_of_the_release_is_reported_not_refused(
    owner_postgres_db: PostgresDatabase, codedeploy: LocalCodeDeploy, tmp_path: Path
) -> None:
    newer = with_extra(
        tmp_path, {"9001_newer.sql": "COMMENT ON TABLE schema_migrations IS 'newer';"}
    )
    handle({}, database=owner_postgres_db, codedeploy=codedeploy.client(), migrations_dir=newer)
    # The previous release (shipped files only) runs its hook after a rollback.
    result = handle(hook_event(), database=owner_postgres_db, codedeploy=codedeploy.client())
    assert (result["status"], result["unknown"]) == ("Succeeded", ["9001_newer.sql"])


def test_lambda_handler_uses_the_owner_secret_through_the_data_api(
    pg_admin_url: str, empty_postgres_url: str, codedeploy: LocalCodeDeploy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A Data API that admits only the owner's secret: the app role's would be refused.
    owner_only = LocalDataApi(
        postgres_url=pg_admin_url, credentials={OWNER_SECRET_ARN: DatabaseCredentials(OWNER)}
    )
    owner_only.start()
    name = database_name(empty_postgres_url)
    try:
        for key, value in {
            CLUSTER_ARN_ENV: TEST_CLUSTER_ARN,
            OWNER_SECRET_ENV: OWNER_SECRET_ARN,
            DB_NAME_ENV: name,
            RDS_DATA_ENDPOINT_ENV: owner_only.endpoint_url,
            "AWS_ENDPOINT_URL_CODEDEPLOY": codedeploy.endpoint_url,
            "AWS_DEFAULT_REGION": "eu-west-2",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }.items():
            monkeypatch.setenv(key, value)

        result = handler(hook_event("exec-1"), None)

        assert (result["status"], result["applied"]) == ("Succeeded", SHIPPED)
        assert codedeploy.backend.statuses == {("d-EXAMPLE111", "exec-1"): "Succeeded"}
        app_role = DataApiDatabase(
            cluster_arn=TEST_CLUSTER_ARN, secret_arn=APP_SECRET_ARN, database=name,
            client=rds_data_client(owner_only.endpoint_url),
        )
        with pytest.raises(Exception, match="not accessible"):
            app_role.fetch_one("SELECT 1 AS one")
        app_role.close()
    finally:
        owner_only.stop()


def test_a_misconfigured_hook_function_reports_failed_at_once(
    codedeploy: LocalCodeDeploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {
        CLUSTER_ARN_ENV: TEST_CLUSTER_ARN,  # the owner secret is missing
        "AWS_ENDPOINT_URL_CODEDEPLOY": codedeploy.endpoint_url,
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(OWNER_SECRET_ENV, raising=False)

    result = handler(hook_event("exec-1"), None)

    assert result["status"] == "Failed" and OWNER_SECRET_ENV in result["error"]
    assert codedeploy.backend.statuses == {("d-EXAMPLE111", "exec-1"): "Failed"}
    with pytest.raises(SettingsError, match=OWNER_SECRET_ENV):
        handler({}, None)


def test_settings_name_what_is_missing() -> None:
    with pytest.raises(SettingsError, match=OWNER_SECRET_ENV):
        Settings.for_migrations({CLUSTER_ARN_ENV: TEST_CLUSTER_ARN})
    with pytest.raises(SettingsError, match=CLUSTER_ARN_ENV):  # Lambda needs the cluster
        Settings.for_migrations({"AWS_LAMBDA_FUNCTION_NAME": "migrations"})
    settings = Settings.for_migrations({
        CLUSTER_ARN_ENV: TEST_CLUSTER_ARN, OWNER_SECRET_ENV: OWNER_SECRET_ARN,
    })
    assert (settings.db_owner_secret_arn, settings.db_name) == (OWNER_SECRET_ARN, "app")


def test_the_hook_needs_nothing_the_lambda_asset_lacks() -> None:
    # The asset ships without psycopg (the Data API adapter is all Lambda uses).
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import service.db.migrate_hook, service.db.data_api, service.db.migrations\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
