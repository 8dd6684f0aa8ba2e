"""Typed settings read from the environment (names and ARNs only, never secret values).

In Lambda every value comes from the function's environment variables set by the CDK
stack. Locally the defaults give a self-contained service: embedded PostgreSQL, the dev
token issuer and a local master key, all kept under ``.local/`` (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from service import deployment_contract as contract

Runtime = Literal["local", "lambda"]

DEFAULT_LOCAL_DIR = Path(__file__).resolve().parent.parent / ".local"
DEFAULT_MAX_CONTENT_LENGTH = 64 * 1024


class SettingsError(ValueError):
    """The environment describes an impossible or unsafe configuration."""


def running_in_lambda(environ: Mapping[str, str] | None = None) -> bool:
    """True inside AWS Lambda or when explicitly configured as the Lambda runtime."""
    env = os.environ if environ is None else environ
    return (bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
            or env.get(contract.SERVICE_RUNTIME) == "lambda")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Configuration of one service instance.

    Attributes
    ----------
    runtime
        ``"lambda"`` (AWS resources only, the dev issuer is refused) or ``"local"``.
    database_url
        psycopg URL of a PostgreSQL (local mode), as the application role. Without it
        and without a cluster ARN the embedded PostgreSQL under ``local_dir/pg`` is
        started on first use, migrated as its owner and used as the app role.
    database_owner_url
        psycopg URL as the schema owner, for migrations only (``DATABASE_URL`` if unset).
    db_cluster_arn, db_secret_arn, db_name
        Aurora cluster reached through the RDS Data API; ``db_secret_arn`` holds the
        application role's credentials (the API and workers).
    db_owner_secret_arn
        The owner's (master) secret: migrations and the app role's password rotation
        only, never the API.
    rds_data_endpoint_url
        Endpoint override for the RDS Data API (the local Data API server).
    token_kms_key_arn
        KMS key for consent-token envelope encryption; locally a master key file is used.
    family_keys_table_name
        DynamoDB table of the wrapped per-family data keys (never backed up, so deleting
        an item crypto-shreds the family even in database backups). Required in Lambda;
        locally the ``family_keys`` table of the database is used instead.
    aws_region
        Region of AWS clients the service creates (``AWS_REGION``); boto3's default
        resolution when unset.
    cognito_user_pool_id, cognito_client_id, cognito_region
        The Cognito user pool whose JWTs are accepted.
    dev_issuer
        Trust the local development issuer (refused in Lambda).
    origin_verify_secret_arn
        Secret whose value CloudFront sends as ``X-Origin-Verify``; enforced when set.
    secrets_max_age
        Seconds a fetched secret/parameter is cached in memory.
    audit_key_secret_arn
        Secret holding the audit chain's HMAC keys (:mod:`service.audit.keys`). Required
        in Lambda; locally ``audit_dev_key`` or a key file under ``local_dir``.
    audit_dev_key
        Local only (``AUDIT_DEV_KEY``, base64): a fixed audit key for a laptop; refused in
        Lambda.
    audit_anchor_bucket
        S3 bucket (Object Lock, compliance mode) for audit anchors; locally a directory
        under ``local_dir``.
    audit_anchor_interval_minutes
        How often the schedule anchors the chain heads (``AUDIT_ANCHOR_INTERVAL_MINUTES``).
    truelayer_jku_allowlist
        The exact ``jku`` URLs whose key sets may verify TrueLayer webhooks
        (``TRUELAYER_JKU_ALLOWLIST``, comma-separated); https only in Lambda. Empty: every
        webhook is refused.
    webhook_max_age_seconds
        How old a webhook's signed timestamp may be.
    bank_client_secret_arn
        Secret holding the provider's client credentials (``{"client_id", "client_secret"}``).
    bank_provider_environment
        ``"sandbox"`` or ``"live"`` (TrueLayer's hosts); ``"local"`` (laptops and tests) talks
        to the sandbox bank at ``bank_base_url`` with its fixed local credentials.
    bank_redirect_uri
        The consent callback URL; locally derived from the request's host when unset.
    bank_base_url
        The local sandbox bank (``BANK_BASE_URL``, 127.0.0.1 only; local mode) the TrueLayer
        adapter calls instead of TrueLayer (``TrueLayerConfig.local_sandbox``); refused in
        Lambda.
    bank_sync_state_machine_arn
        Runs start as executions of this state machine; unset, they run in-process.
    sync_manifest_bucket
        Where the worker writes the daily fan-out's manifest.
    """

    runtime: Runtime = "local"
    database_url: str | None = None
    db_cluster_arn: str | None = None
    db_secret_arn: str | None = None
    db_owner_secret_arn: str | None = None
    database_owner_url: str | None = None
    db_name: str = "app"
    rds_data_endpoint_url: str | None = None
    token_kms_key_arn: str | None = None
    family_keys_table_name: str | None = None
    aws_region: str | None = None
    cognito_user_pool_id: str | None = None
    cognito_client_id: str | None = None
    cognito_region: str | None = None
    dev_issuer: bool = True
    origin_verify_secret_arn: str | None = None
    bank_client_secret_arn: str | None = None
    bank_provider_environment: str = "local"
    bank_redirect_uri: str | None = None
    bank_base_url: str | None = None
    bank_sync_state_machine_arn: str | None = None
    sync_manifest_bucket: str | None = None
    ai_settings_parameter_name: str | None = None
    log_level: str = "INFO"
    service_name: str = "family-finance-api"
    local_dir: Path = field(default=DEFAULT_LOCAL_DIR)
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    secrets_max_age: int = 300
    jwt_leeway_seconds: int = 30
    audit_key_secret_arn: str | None = None
    audit_dev_key: str | None = field(default=None, repr=False)
    audit_anchor_bucket: str | None = None
    audit_anchor_interval_minutes: int = 15
    truelayer_jku_allowlist: tuple[str, ...] = ()
    webhook_max_age_seconds: int = 300

    @property
    def is_lambda(self) -> bool:
        """True for the Lambda runtime."""
        return self.runtime == "lambda"

    @property
    def cognito_issuer(self) -> str | None:
        """The ``iss`` claim of the user pool's tokens, when Cognito is configured."""
        if not (self.cognito_user_pool_id and self.cognito_region):
            return None
        return f"https://cognito-idp.{self.cognito_region}.amazonaws.com/{self.cognito_user_pool_id}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from environment variables (``os.environ`` by default)."""
        settings = cls._read(environ)
        settings.check()
        return settings

    @classmethod
    def for_migrations(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings of the migration runner (the owner role only), from the environment.

        The migration function has only the cluster, the owner secret and the database
        name: what :func:`service.db.migrations.owner_database` needs.

        Raises
        ------
        SettingsError
            A cluster without the owner secret, or (in Lambda) no cluster at all.
        """
        settings = cls._read(environ)
        missing = [name for name, value in (
            (contract.DB_CLUSTER_ARN, settings.db_cluster_arn),
            (contract.DB_OWNER_SECRET_ARN, settings.db_owner_secret_arn),
        ) if not value]
        if missing and (settings.db_cluster_arn or settings.is_lambda):
            raise SettingsError(f"migrations are missing settings: {', '.join(missing)}")
        return settings

    @classmethod
    def _read(cls, environ: Mapping[str, str] | None) -> Settings:
        env = os.environ if environ is None else environ
        is_lambda = running_in_lambda(env)

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        dev_issuer_default = "false" if is_lambda else "true"
        return cls(
            runtime="lambda" if is_lambda else "local",
            database_url=get("DATABASE_URL"),
            db_cluster_arn=get(contract.DB_CLUSTER_ARN),
            db_secret_arn=get(contract.DB_SECRET_ARN),
            db_owner_secret_arn=get(contract.DB_OWNER_SECRET_ARN),
            database_owner_url=get("DATABASE_OWNER_URL"),
            db_name=get(contract.DB_NAME) or "app",
            rds_data_endpoint_url=get("RDS_DATA_ENDPOINT_URL"),
            token_kms_key_arn=get(contract.TOKEN_KMS_KEY_ARN),
            family_keys_table_name=get(contract.FAMILY_KEYS_TABLE_NAME),
            aws_region=get("AWS_REGION") or get("AWS_DEFAULT_REGION"),
            cognito_user_pool_id=get(contract.COGNITO_USER_POOL_ID),
            cognito_client_id=get(contract.COGNITO_CLIENT_ID),
            cognito_region=get(contract.COGNITO_REGION) or get("AWS_REGION"),
            dev_issuer=(get("DEV_ISSUER") or dev_issuer_default).lower() in {"1", "true", "yes"},
            origin_verify_secret_arn=get(contract.ORIGIN_VERIFY_SECRET_ARN),
            bank_client_secret_arn=get(contract.BANK_CLIENT_SECRET_ARN),
            bank_provider_environment=(get(contract.BANK_PROVIDER_ENVIRONMENT)
                                       or ("sandbox" if is_lambda else "local")).lower(),
            bank_redirect_uri=get(contract.BANK_REDIRECT_URI),
            bank_base_url=get("BANK_BASE_URL"),
            bank_sync_state_machine_arn=get(contract.BANK_SYNC_STATE_MACHINE_ARN),
            sync_manifest_bucket=get(contract.SYNC_MANIFEST_BUCKET),
            ai_settings_parameter_name=get(contract.AI_SETTINGS_PARAMETER_NAME),
            log_level=(get(contract.LOG_LEVEL) or "INFO").upper(),
            service_name=get(contract.POWERTOOLS_SERVICE_NAME) or "family-finance-api",
            local_dir=Path(get("SERVICE_LOCAL_DIR") or DEFAULT_LOCAL_DIR),
            secrets_max_age=int(get("SECRETS_MAX_AGE") or 300),
            audit_key_secret_arn=get(contract.AUDIT_KEY_SECRET_ARN),
            audit_dev_key=get("AUDIT_DEV_KEY"),
            audit_anchor_bucket=get(contract.AUDIT_ANCHOR_BUCKET),
            audit_anchor_interval_minutes=int(get(contract.AUDIT_ANCHOR_INTERVAL_MINUTES) or 15),
            truelayer_jku_allowlist=tuple(
                url.strip() for url in (get(contract.TRUELAYER_JKU_ALLOWLIST) or "").split(",")
                if url.strip()
            ),
        )

    def check(self) -> None:
        """Refuse unsafe combinations at startup.

        Raises
        ------
        SettingsError
            The dev issuer is enabled in Lambda, or Lambda lacks its AWS resources.
        """
        if self.is_lambda or running_in_lambda():
            if self.dev_issuer:
                raise SettingsError("The development token issuer must never run in Lambda.")
            if self.audit_dev_key:
                raise SettingsError("AUDIT_DEV_KEY is for local runs; Lambda reads "
                                    "AUDIT_KEY_SECRET_ARN.")
            missing = [
                name
                for name, value in (
                    (contract.DB_CLUSTER_ARN, self.db_cluster_arn),
                    (contract.DB_SECRET_ARN, self.db_secret_arn),
                    (contract.TOKEN_KMS_KEY_ARN, self.token_kms_key_arn),
                    (contract.FAMILY_KEYS_TABLE_NAME, self.family_keys_table_name),
                    (contract.COGNITO_USER_POOL_ID, self.cognito_user_pool_id),
                    (contract.COGNITO_CLIENT_ID, self.cognito_client_id),
                    (contract.COGNITO_REGION, self.cognito_region),
                    (contract.AUDIT_KEY_SECRET_ARN, self.audit_key_secret_arn),
                    (contract.AUDIT_ANCHOR_BUCKET, self.audit_anchor_bucket),
                )
                if not value
            ]
            if missing:
                raise SettingsError(f"Lambda runtime is missing settings: {', '.join(missing)}")
            if self.bank_base_url:
                raise SettingsError("BANK_BASE_URL is for local runs; Lambda calls TrueLayer.")
            insecure = [url for url in self.truelayer_jku_allowlist
                        if not url.startswith("https://")]
            if insecure:
                raise SettingsError(
                    f"{contract.TRUELAYER_JKU_ALLOWLIST} may list only https URLs in Lambda "
                    f"(a local sandbox key set is never trusted there): {', '.join(insecure)}"
                )
        if self.bank_provider_environment not in ("local", "sandbox", "live"):
            raise SettingsError("BANK_PROVIDER_ENVIRONMENT must be 'sandbox' or 'live'.")
        if self.is_lambda and self.bank_provider_environment == "local":
            raise SettingsError("Lambda talks to TrueLayer: BANK_PROVIDER_ENVIRONMENT must be "
                                "'sandbox' or 'live'.")
        if self.bank_provider_environment == "local" and self.bank_base_url and not (
                self.bank_base_url.startswith("http://127.0.0.1")):
            raise SettingsError("BANK_BASE_URL is the local sandbox bank on 127.0.0.1 only.")
        if bool(self.db_cluster_arn) != bool(self.db_secret_arn):
            raise SettingsError("DB_CLUSTER_ARN and DB_SECRET_ARN must be set together.")
        if self.db_secret_arn and self.db_secret_arn == self.db_owner_secret_arn:
            raise SettingsError(
                "DB_SECRET_ARN must be the application role's secret, not the owner's "
                "(DB_OWNER_SECRET_ARN): the API never runs as the database owner."
            )
