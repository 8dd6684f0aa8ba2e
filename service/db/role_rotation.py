"""Secrets Manager rotation of the application role's password, through the RDS Data API.

The database sits in isolated subnets with no route out, so the rotation function
cannot reach it over the PostgreSQL protocol; it changes the password with the RDS Data
API instead, as the owner (``DB_OWNER_SECRET_ARN``), and needs no VPC. The four steps
follow Secrets Manager's rotation contract:

``createSecret``
    Put a new version (``AWSPENDING``) with a fresh random password, same username.
``setSecret``
    ``ALTER ROLE ... PASSWORD`` as the owner. Only the SCRAM-SHA-256 verifier is sent,
    so the password itself never appears in SQL text or the database's statement logs.
    The role is created (plain LOGIN) if missing, so rotation may run before the first
    migration; a role with any privileged attribute, or the owner itself, is refused.
``testSecret``
    Log in with the pending password: the Data API always uses a secret's
    ``AWSCURRENT`` version, so the pending credentials are put into a short-lived
    secret of their own (``<name>-rotation-test-<token>``), ``SELECT current_user``
    runs through it, and it is force-deleted.
``finishSecret``
    Move ``AWSCURRENT`` to the new version. Containers that cached the old value keep
    working until they reload: PostgreSQL checks passwords only when a session starts,
    and Data API sessions are opened per call with the secret's current version.

Environment: ``DB_CLUSTER_ARN``, ``DB_OWNER_SECRET_ARN``, ``DB_NAME`` (default ``app``),
optionally ``RDS_DATA_ENDPOINT_URL`` and ``SECRETS_MANAGER_ENDPOINT_URL``.
"""

# Imports inside functions are deliberate: boto3 loads only when a rotation runs.
# ruff: noqa: PLC0415

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PENDING = "AWSPENDING"
CURRENT = "AWSCURRENT"
SCRAM_ITERATIONS = 4096
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

_ROLE_IS_PLAIN = """
SELECT NOT (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)
       AS plain
FROM pg_roles WHERE rolname = :role
"""


class RotationError(Exception):
    """The rotation cannot proceed (wrong event, unsafe role, failed login)."""


def scram_sha256_verifier(
    password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS
) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677).

    ``ALTER ROLE ... PASSWORD '<verifier>'`` sets the password without sending it.
    The output holds only ``[A-Za-z0-9+/=:$-]``, so it is safe inside a SQL literal.
    """
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def check_role_name(role: str) -> str:
    """``role`` if it is a plain lower-case identifier (it is interpolated into DDL)."""
    if not _ROLE_NAME.match(role):
        raise RotationError(f"{role!r} is not a valid role name")
    return role


def set_password_sql(role: str, password: str) -> str:
    """``ALTER ROLE`` setting ``password`` through its SCRAM verifier (role name checked)."""
    return f"ALTER ROLE \"{check_role_name(role)}\" PASSWORD '{scram_sha256_verifier(password)}'"


def create_role_sql(role: str) -> str:
    """Create ``role`` as a plain LOGIN role if it does not exist (race-tolerant)."""
    name = check_role_name(role)  # a checked identifier: nothing a caller sends
    return f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
        CREATE ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
            NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$
"""  # noqa: S608


@dataclass(frozen=True, kw_only=True)
class RoleRotation:
    """Rotates one application-role secret (the ``SecretId`` of the event).

    Parameters
    ----------
    secrets_client, rds_data_client
        boto3 clients (injected in tests: moto and the local Data API).
    cluster_arn, owner_secret_arn, database
        Where the role lives and the owner's secret the password is changed with.
    password_length
        Length of generated passwords (letters and digits only).
    """

    secrets_client: Any
    rds_data_client: Any
    cluster_arn: str
    owner_secret_arn: str
    database: str
    password_length: int = 40

    def run(self, step: str, secret_id: str, token: str) -> None:
        """Run one rotation step for version ``token`` of ``secret_id``."""
        if step not in _STEPS:
            raise RotationError(f"unknown rotation step {step!r}")
        if secret_id == self.owner_secret_arn:
            raise RotationError("this function rotates the application role, not the owner")
        stages = self._check_version(secret_id, token)
        if step == "createSecret":
            self.create_secret(secret_id, token)
        elif CURRENT in stages:
            return  # already finished: the remaining steps have nothing to do
        elif step == "setSecret":
            self.set_secret(secret_id, token)
        elif step == "testSecret":
            self.test_secret(secret_id, token)
        else:
            self.finish_secret(secret_id, token)

    def _check_version(self, secret_id: str, token: str) -> list[str]:
        metadata = self.secrets_client.describe_secret(SecretId=secret_id)
        if not metadata.get("RotationEnabled"):
            raise RotationError(f"rotation is not enabled for {secret_id}")
        versions: Mapping[str, list[str]] = metadata.get("VersionIdsToStages", {})
        if token not in versions:
            raise RotationError(f"version {token} has no stage for rotation of {secret_id}")
        stages = list(versions[token])
        if CURRENT not in stages and PENDING not in stages:
            raise RotationError(f"version {token} of {secret_id} is not set as AWSPENDING")
        return stages

    def _value(self, secret_id: str, stage: str, token: str | None = None) -> dict[str, Any]:
        kwargs: dict[str, str] = {"SecretId": secret_id, "VersionStage": stage}
        if token is not None:
            kwargs["VersionId"] = token
        raw = self.secrets_client.get_secret_value(**kwargs)["SecretString"]
        value: dict[str, Any] = json.loads(raw)
        if not isinstance(value.get("username"), str) or not isinstance(
            value.get("password"), str
        ):
            raise RotationError(f"secret {secret_id} must hold a username and a password")
        return value

    def create_secret(self, secret_id: str, token: str) -> None:
        """Put the pending version with a new password (idempotent per token)."""
        current = self._value(secret_id, CURRENT)
        try:
            self._value(secret_id, PENDING, token)
            return
        except self.secrets_client.exceptions.ResourceNotFoundException:
            pass
        password = self.secrets_client.get_random_password(
            PasswordLength=self.password_length, ExcludePunctuation=True
        )["RandomPassword"]
        self.secrets_client.put_secret_value(
            SecretId=secret_id,
            ClientRequestToken=token,
            SecretString=json.dumps({**current, "password": password}),
            VersionStages=[PENDING],
        )

    def _owner_execute(self, sql: str, params: list[dict[str, Any]] | None = None) -> Any:
        return self.rds_data_client.execute_statement(
            resourceArn=self.cluster_arn, secretArn=self.owner_secret_arn,
            database=self.database, sql=sql, parameters=params or [],
        )

    def set_secret(self, secret_id: str, token: str) -> None:
        """Set the pending password on the role, as the owner, through the Data API."""
        current = self._value(secret_id, CURRENT)
        pending = self._value(secret_id, PENDING, token)
        role = check_role_name(pending["username"])
        if role != current["username"]:
            raise RotationError("rotation must not change the username")
        owner = self._value(self.owner_secret_arn, CURRENT)
        if role == owner["username"]:
            raise RotationError("the application role must not be the owner")
        self._owner_execute(create_role_sql(role))
        found = self._owner_execute(
            _ROLE_IS_PLAIN, [{"name": "role", "value": {"stringValue": role}}]
        )
        records = found.get("records") or []
        if not records or not records[0][0].get("booleanValue"):
            raise RotationError(f"role {role} holds privileged attributes; refusing to rotate it")
        self._owner_execute(set_password_sql(role, pending["password"]))

    def test_secret(self, secret_id: str, token: str) -> None:
        """Log in with the pending password through a short-lived copy of the secret."""
        pending = self._value(secret_id, PENDING, token)
        name = self.secrets_client.describe_secret(SecretId=secret_id)["Name"]
        probe_name = f"{name}-rotation-test-{hashlib.sha256(token.encode()).hexdigest()[:12]}"
        kms_key = self.secrets_client.describe_secret(SecretId=secret_id).get("KmsKeyId")
        create: dict[str, Any] = {"Name": probe_name, "SecretString": json.dumps(pending)}
        if kms_key:
            create["KmsKeyId"] = kms_key
        probe_arn = self.secrets_client.create_secret(**create)["ARN"]
        try:
            answer = self.rds_data_client.execute_statement(
                resourceArn=self.cluster_arn, secretArn=probe_arn, database=self.database,
                sql="SELECT current_user",
            )
        except Exception as exc:
            raise RotationError(f"login with the pending password failed: {exc}") from exc
        finally:
            self.secrets_client.delete_secret(SecretId=probe_arn, ForceDeleteWithoutRecovery=True)
        user = answer["records"][0][0].get("stringValue")
        if user != pending["username"]:
            raise RotationError(f"the pending secret logged in as {user!r}")

    def finish_secret(self, secret_id: str, token: str) -> None:
        """Make the pending version current."""
        metadata = self.secrets_client.describe_secret(SecretId=secret_id)
        current_version = next(
            (v for v, stages in metadata["VersionIdsToStages"].items() if CURRENT in stages),
            None,
        )
        if current_version == token:
            return
        self.secrets_client.update_secret_version_stage(
            SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=token,
            RemoveFromVersionId=current_version,
        )


def rotation_from_env(environ: Mapping[str, str] | None = None) -> RoleRotation:
    """A :class:`RoleRotation` configured from the function's environment."""
    import boto3

    env = os.environ if environ is None else environ
    missing = [n for n in ("DB_CLUSTER_ARN", "DB_OWNER_SECRET_ARN") if not env.get(n)]
    if missing:
        raise RotationError(f"missing environment: {', '.join(missing)}")
    return RoleRotation(
        secrets_client=boto3.client(
            "secretsmanager", endpoint_url=env.get("SECRETS_MANAGER_ENDPOINT_URL") or None
        ),
        rds_data_client=boto3.client(
            "rds-data", endpoint_url=env.get("RDS_DATA_ENDPOINT_URL") or None
        ),
        cluster_arn=env["DB_CLUSTER_ARN"],
        owner_secret_arn=env["DB_OWNER_SECRET_ARN"],
        database=env.get("DB_NAME") or "app",
    )


_rotation: RoleRotation | None = None


def handler(event: Mapping[str, Any], context: Any) -> None:
    """Secrets Manager rotation entry point (``SecretId``, ``ClientRequestToken``, ``Step``)."""
    global _rotation  # noqa: PLW0603 (clients reused across invocations of one container)
    if _rotation is None:
        _rotation = rotation_from_env()
    _rotation.run(str(event["Step"]), str(event["SecretId"]), str(event["ClientRequestToken"]))
