"""Builds the service's dependencies from :class:`Settings`, each lazily on first use.

Nothing here runs at import and nothing connects until a request needs it, so a Lambda
cold start for ``GET /health`` touches neither the database nor KMS.
"""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from service.settings import Settings

if TYPE_CHECKING:
    from devtools.dev_issuer import DevIssuer
    from service.auth.jwks import JwksFetch
    from service.auth.verifier import JwtVerifier
    from service.crypto import DataKeyProvider, FamilyKeyring, FamilyKeyStore
    from service.db.port import Database
    from service.secrets import SecretLoader

T = TypeVar("T")
MASTER_KEY_FILE = "master.key"


class Services:
    """The dependency container attached to the Flask app.

    Every attribute is built on first access (thread-safe) unless injected.

    Parameters
    ----------
    settings
        The service configuration.
    database, key_provider, key_store, verifier, secrets
        Ready-made dependencies (tests, benches); built from settings when omitted.
    jwks_fetch
        Fetches the Cognito JWKS; defaults to HTTPS from the user pool.
    aws_clients
        boto3 clients by service name (``"kms"``, ``"rds-data"`` ...) to use instead of
        creating them.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        database: Database | None = None,
        key_provider: DataKeyProvider | None = None,
        key_store: FamilyKeyStore | None = None,
        verifier: JwtVerifier | None = None,
        secrets: SecretLoader | None = None,
        jwks_fetch: JwksFetch | None = None,
        aws_clients: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self._built: dict[str, Any] = {
            name: value
            for name, value in (
                ("database", database),
                ("key_provider", key_provider),
                ("key_store", key_store),
                ("verifier", verifier),
                ("secrets", secrets),
            )
            if value is not None
        }
        self._jwks_fetch = jwks_fetch
        self._aws_clients = dict(aws_clients or {})
        self._lock = threading.RLock()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            value: T = self._built[name]
            return value

    def aws_client(self, service_name: str, **kwargs: Any) -> Any:
        """A boto3 client, injected or created once (boto3 is imported only here)."""

        def build() -> Any:
            if service_name in self._aws_clients:
                return self._aws_clients[service_name]
            import boto3

            return boto3.client(service_name, **kwargs)  # type: ignore[call-overload]

        return self._once(f"client:{service_name}", build)

    @property
    def database(self) -> Database:
        """The database: Data API (cluster ARN), a URL, or embedded PostgreSQL locally."""
        return self._once("database", self._build_database)

    @property
    def key_provider(self) -> DataKeyProvider:
        """KMS data keys when a key ARN is configured, else a local master key."""
        return self._once("key_provider", self._build_key_provider)

    @property
    def key_store(self) -> FamilyKeyStore:
        """Wrapped family keys: DynamoDB when a table is configured, else the database."""
        return self._once("key_store", self._build_key_store)

    @property
    def keyring(self) -> FamilyKeyring:
        """Per-family data keys: :attr:`key_provider` over :attr:`key_store`."""
        return self._once("keyring", self._build_keyring)

    @property
    def verifier(self) -> JwtVerifier:
        """The JWT verifier trusting Cognito and, locally, the dev issuer."""
        return self._once("verifier", self._build_verifier)

    @property
    def secrets(self) -> SecretLoader:
        """Secrets Manager / SSM reader with an in-memory TTL cache."""
        return self._once("secrets", self._build_secrets)

    @property
    def dev_issuer(self) -> DevIssuer | None:
        """The local dev issuer, or ``None`` when disabled (always in Lambda)."""
        return self._once("dev_issuer", self._build_dev_issuer)

    def close(self) -> None:
        """Release the database if it was opened."""
        database = self._built.get("database")
        if database is not None:
            database.close()

    def _build_database(self) -> Database:
        from service.db import connect

        settings = self.settings
        if settings.db_cluster_arn:
            client = None
            if settings.rds_data_endpoint_url or "rds-data" in self._aws_clients:
                client = self.aws_client("rds-data", endpoint_url=settings.rds_data_endpoint_url)
            return connect(
                cluster_arn=settings.db_cluster_arn,
                secret_arn=settings.db_secret_arn,
                database_name=settings.db_name,
                rds_data_client=client,
            )
        if settings.database_url:
            return connect(database_url=settings.database_url)
        # Local runs only (devtools never ships): migrated as the owner, used as the app role.
        from devtools.embedded import embedded_app_database_url

        return connect(database_url=embedded_app_database_url(settings.local_dir / "pg"))

    def _build_key_provider(self) -> DataKeyProvider:
        from service import crypto

        settings = self.settings
        if settings.token_kms_key_arn:
            return crypto.KmsDataKeyProvider(self.aws_client("kms"), settings.token_kms_key_arn)
        if settings.is_lambda:
            raise RuntimeError("TOKEN_KMS_KEY_ARN is required in Lambda")
        from service.local_files import read_or_create

        master_key = read_or_create(settings.local_dir / MASTER_KEY_FILE, lambda: os.urandom(32))
        return crypto.LocalDataKeyProvider(master_key)

    def _build_key_store(self) -> FamilyKeyStore:
        from service import crypto

        settings = self.settings
        if settings.family_keys_table_name:
            client = self._aws_clients.get("dynamodb")
            return crypto.DynamoDbFamilyKeyStore(
                settings.family_keys_table_name, client, region_name=settings.aws_region
            )
        if settings.is_lambda:
            raise RuntimeError("FAMILY_KEYS_TABLE_NAME is required in Lambda")
        from service.repositories.keys import PostgresFamilyKeyStore

        # Local mode only: keys in the application database reach its backups.
        return PostgresFamilyKeyStore(self.database)

    def _build_keyring(self) -> FamilyKeyring:
        from service.crypto import FamilyKeyring

        return FamilyKeyring(self.key_provider, self.key_store)

    def _build_verifier(self) -> JwtVerifier:
        from service.auth.jwks import JwksCache, url_fetcher
        from service.auth.verifier import JwtVerifier, TrustedIssuer

        settings = self.settings
        issuers: list[TrustedIssuer] = []
        issuer = settings.cognito_issuer
        if issuer and settings.cognito_client_id:
            fetch = self._jwks_fetch or url_fetcher(f"{issuer}/.well-known/jwks.json")
            issuers.append(
                TrustedIssuer(issuer=issuer, client_id=settings.cognito_client_id,
                              keys=JwksCache(fetch))
            )
        dev = self.dev_issuer
        if dev is not None:
            issuers.append(dev.trusted_issuer())
        return JwtVerifier(issuers, leeway=settings.jwt_leeway_seconds)

    def _build_secrets(self) -> SecretLoader:
        from service.secrets import SecretLoader

        return SecretLoader(
            max_age=self.settings.secrets_max_age,
            secrets_client=self._aws_clients.get("secretsmanager"),
            ssm_client=self._aws_clients.get("ssm"),
        )

    def _build_dev_issuer(self) -> DevIssuer | None:
        if not self.settings.dev_issuer:
            return None
        from devtools.dev_issuer import DevIssuer

        return DevIssuer(self.settings.local_dir)
