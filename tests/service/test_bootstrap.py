"""Wiring: each adapter gets its own, explicitly given client; nothing is keyed by name."""

from __future__ import annotations

from pathlib import Path

import boto3
from botocore.config import Config

from service.audit import DirectoryAnchorStore, S3AnchorStore
from service.bootstrap import AwsClients, Services
from service.crypto import KmsDataKeyProvider
from service.crypto.family_key_store import DynamoDbFamilyKeyStore
from service.db.data_api import DataApiDatabase
from service.settings import Settings

REGION = "eu-west-2"
CLUSTER = "arn:aws:rds:eu-west-2:123456789012:cluster:c"
SECRET = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:s"


def _client(name: str) -> object:
    return boto3.client(name, region_name=REGION, aws_access_key_id="x",  # type: ignore[call-overload]
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))


def test_each_adapter_gets_the_client_given_for_it(local_dir: Path) -> None:
    clients = AwsClients(rds_data=_client("rds-data"), kms=_client("kms"),  # type: ignore[arg-type]
                         dynamodb=_client("dynamodb"), s3=_client("s3"))
    settings = Settings(runtime="local", local_dir=local_dir, db_cluster_arn=CLUSTER,
                        db_secret_arn=SECRET, token_kms_key_arn="arn:aws:kms:eu-west-2:1:key/k",
                        family_keys_table_name="keys", audit_anchor_bucket="anchors")
    services = Services(settings, clients=clients)
    database = services.database
    assert isinstance(database, DataApiDatabase) and database.client is clients.rds_data
    provider = services.key_provider
    assert isinstance(provider, KmsDataKeyProvider) and provider._kms is clients.kms
    store = services.key_store
    assert isinstance(store, DynamoDbFamilyKeyStore) and store._client is clients.dynamodb
    anchors = services.anchor_store
    assert isinstance(anchors, S3AnchorStore) and anchors._s3 is clients.s3


def test_an_endpoint_override_is_not_lost_to_an_earlier_client(local_dir: Path) -> None:
    """The old locator cached clients by service name and ignored later keyword arguments."""
    settings = Settings(runtime="local", local_dir=local_dir, db_cluster_arn=CLUSTER,
                        db_secret_arn=SECRET, rds_data_endpoint_url="http://127.0.0.1:9",
                        aws_region=REGION)
    database = Services(settings).database
    assert isinstance(database, DataApiDatabase)
    assert database.client.meta.endpoint_url == "http://127.0.0.1:9"


def test_local_mode_anchors_and_audit_keys_stay_under_local_dir(local_dir: Path) -> None:
    services = Services(Settings(runtime="local", local_dir=local_dir,
                                 database_url="postgresql://nobody@127.0.0.1:1/none"))
    assert isinstance(services.anchor_store, DirectoryAnchorStore)
    assert services.anchor_store.directory.is_relative_to(local_dir)
    assert services.audit_keys == Services(services.settings).audit_keys  # the same key file
    assert (local_dir / "audit.key").stat().st_mode & 0o077 == 0
