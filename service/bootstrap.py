"""Builds the service's dependencies from :class:`Settings`, each lazily on first use.

Nothing here runs at import and nothing connects until a request needs it, so a Lambda
cold start for ``GET /health`` touches neither the database nor KMS. Every adapter gets
its boto3 client explicitly: the one given in :class:`AwsClients` (tests, benches) or a
new one made for that adapter, configured for it; no client is shared by name.
"""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from service.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_rds_data import RDSDataServiceClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

    from devtools.dev_issuer import DevIssuer
    from service.audit import AnchorStore, AuditKeys, AuditSigner
    from service.auth.jwks import JwksFetch
    from service.auth.verifier import JwtVerifier
    from service.banking.port import ProviderRegistry
    from service.chat import Assistant, ChatModel
    from service.chat.config import ChatConfig
    from service.crypto import DataKeyProvider, FamilyKeyring, FamilyKeyStore
    from service.db.port import Database
    from service.secrets import SecretLoader
    from service.webhooks import JwksDocumentFetch, WebhookEvents, WebhookVerifier
    from service.workflows.launcher import SyncLauncher
    from service.workflows.store import RunStore

T = TypeVar("T")
MASTER_KEY_FILE = "master.key"
CLOSE_WAIT_SECONDS = 60.0
ANCHOR_DIR = "audit-anchors"


@dataclass(frozen=True, kw_only=True)
class AwsClients:
    """boto3 clients to give the adapters instead of creating them (``None``: create one).

    Each is used by exactly one adapter: ``rds_data`` by the Data API database, ``kms``
    by the data-key provider, ``dynamodb`` by the family key store, ``secretsmanager`` and
    ``ssm`` by the secret loader, ``s3`` by the audit anchor store.
    """

    rds_data: RDSDataServiceClient | None = None
    kms: KMSClient | None = None
    dynamodb: DynamoDBClient | None = None
    secretsmanager: SecretsManagerClient | None = None
    ssm: SSMClient | None = None
    s3: S3Client | None = None
    stepfunctions: Any = None


class Services:
    """The dependency container attached to the Flask app.

    Every attribute is built on first access (thread-safe) unless injected.

    Parameters
    ----------
    settings
        The service configuration.
    database, key_provider, key_store, verifier, secrets, audit_keys, anchor_store
        Ready-made dependencies (tests, benches); built from settings when omitted.
    jwks_fetch
        Fetches the Cognito JWKS; defaults to HTTPS from the user pool.
    webhook_events
        What verified webhook events do (:class:`~service.webhooks.WebhookEvents`); by
        default the bank-sync hooks (:mod:`service.webhooks.bank_sync_hooks`).
    webhook_jwks_fetch
        Fetches a TrueLayer key set by URL (only allow-listed URLs reach it); HTTPS with
        timeouts by default.
    bank_providers, sync_launcher
        The Open Banking providers and the run launcher (tests point them at the sandbox).
    workflow_sleep
        The in-process runner's backoff sleep (tests record it instead of waiting).
    clients
        boto3 clients for the adapters built here (:class:`AwsClients`).
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
        audit_keys: AuditKeys | None = None,
        anchor_store: AnchorStore | None = None,
        jwks_fetch: JwksFetch | None = None,
        clients: AwsClients | None = None,
        chat_model: ChatModel | None = None,
        webhook_events: WebhookEvents | None = None,
        webhook_jwks_fetch: JwksDocumentFetch | None = None,
        bank_providers: ProviderRegistry | None = None,
        sync_launcher: SyncLauncher | None = None,
        workflow_sleep: Callable[[float], None] | None = None,
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
                ("audit_keys", audit_keys),
                ("anchor_store", anchor_store),
                ("chat_model", chat_model),
                ("webhook_events", webhook_events),
                ("bank_providers", bank_providers),
                ("sync_launcher", sync_launcher),
            )
            if value is not None
        }
        self._jwks_fetch = jwks_fetch
        self._webhook_jwks_fetch = webhook_jwks_fetch
        self._workflow_sleep = workflow_sleep
        self.clients = clients or AwsClients()
        self._lock = threading.RLock()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            value: T = self._built[name]
            return value

    def _new_client(self, service_name: str, **kwargs: Any) -> Any:
        """A new boto3 client for one adapter, in the configured region."""
        import boto3

        if self.settings.aws_region:
            kwargs.setdefault("region_name", self.settings.aws_region)
        return boto3.client(service_name, **kwargs)  # type: ignore[call-overload]

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
    def audit_keys(self) -> AuditKeys:
        """The audit chain's HMAC keys, read once per container (the secret, or local)."""
        return self._once("audit_keys", self._build_audit_keys)

    @property
    def audit_signer(self) -> AuditSigner:
        """Seals audit entries with :attr:`audit_keys`."""
        return self._once("audit_signer", self._build_audit_signer)

    @property
    def anchor_store(self) -> AnchorStore:
        """Where audit anchors go: the Object Lock bucket, or ``local_dir/audit-anchors``."""
        return self._once("anchor_store", self._build_anchor_store)

    @property
    def chat_config(self) -> ChatConfig:
        """The chat's provider and bounds (the AI-settings parameter in AWS, else settings)."""
        return self._once("chat_config", self._build_chat_config)

    @property
    def chat_model(self) -> ChatModel:
        """The configured provider adapter (only when :attr:`chat_config` is enabled)."""
        return self._once("chat_model", self._build_chat_model)

    @property
    def assistant(self) -> Assistant:
        """The assistant over :attr:`chat_model` and the product tools on the database."""
        return self._once("assistant", self._build_assistant)

    @property
    def webhook_verifier(self) -> WebhookVerifier:
        """Verifies TrueLayer webhooks against the allow-listed, cached key sets."""
        return self._once("webhook_verifier", self._build_webhook_verifier)

    @property
    def webhook_events(self) -> WebhookEvents:
        """Handlers of verified webhook events: consent changes and waiting sync runs."""
        return self._once("webhook_events", self._build_webhook_events)

    @property
    def dev_issuer(self) -> DevIssuer | None:
        """The local dev issuer, or ``None`` when disabled (always in Lambda)."""
        return self._once("dev_issuer", self._build_dev_issuer)

    @property
    def bank_providers(self) -> ProviderRegistry:
        """The Open Banking providers (TrueLayer; locally the sandbox bank)."""
        return self._once("bank_providers", self._build_bank_providers)

    @property
    def run_store(self) -> RunStore:
        """Workflow run records in the database."""
        return self._once("run_store", self._build_run_store)

    @property
    def sync_launcher(self) -> SyncLauncher:
        """Starts bank syncs: the state machine when configured, else in this process."""
        return self._once("sync_launcher", self._build_sync_launcher)

    def close(self) -> None:
        """Release the database if it was opened, after the syncs this process runs in the
        background (:class:`~service.workflows.launcher.InProcessLauncher`) have finished,
        waiting at most :data:`CLOSE_WAIT_SECONDS` (a run cut short is swept later)."""
        launcher = self._built.get("sync_launcher")
        if launcher is not None:
            from service.workflows.launcher import InProcessLauncher

            if isinstance(launcher, InProcessLauncher):
                launcher.wait_idle(timeout=CLOSE_WAIT_SECONDS)
        database = self._built.get("database")
        if database is not None:
            database.close()

    def _build_webhook_verifier(self) -> WebhookVerifier:
        from datetime import timedelta

        from service.webhooks import SigningKeyCache, WebhookVerifier

        keys = SigningKeyCache(self.settings.truelayer_jku_allowlist,
                               fetch=self._webhook_jwks_fetch)
        return WebhookVerifier(keys,
                               max_age=timedelta(seconds=self.settings.webhook_max_age_seconds))

    def _build_webhook_events(self) -> WebhookEvents:
        # A verified TrueLayer event records a consent change or resumes the sync run that
        # waits on it (never a sync of its own); signer and launcher are built on first use.
        from service.webhooks import WebhookEvents
        from service.webhooks.bank_sync_hooks import BankSyncWebhookHooks

        hooks = BankSyncWebhookHooks(provider="truelayer", signer=lambda: self.audit_signer,
                                     launcher=lambda: self.sync_launcher)
        return WebhookEvents.truelayer(record_consent=hooks.record_consent,
                                       find_waiting_run=hooks.find_waiting_run,
                                       resume_run=hooks.resume_run)

    def _build_database(self) -> Database:
        from service.db import connect

        settings = self.settings
        if settings.db_cluster_arn:
            client = self.clients.rds_data
            if client is None and settings.rds_data_endpoint_url:
                client = self._new_client("rds-data", endpoint_url=settings.rds_data_endpoint_url)
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
            client = self.clients.kms or self._new_client("kms")
            return crypto.KmsDataKeyProvider(client, settings.token_kms_key_arn)
        if settings.is_lambda:
            raise RuntimeError("TOKEN_KMS_KEY_ARN is required in Lambda")
        from service.local_files import read_or_create

        master_key = read_or_create(settings.local_dir / MASTER_KEY_FILE, lambda: os.urandom(32))
        return crypto.LocalDataKeyProvider(master_key)

    def _build_key_store(self) -> FamilyKeyStore:
        settings = self.settings
        if settings.family_keys_table_name:
            from service.crypto.family_key_store import DynamoDbFamilyKeyStore

            client = self.clients.dynamodb or self._new_client("dynamodb")
            return DynamoDbFamilyKeyStore(settings.family_keys_table_name, client)
        if settings.is_lambda:
            raise RuntimeError("FAMILY_KEYS_TABLE_NAME is required in Lambda")
        from service.crypto.family_key_store import PostgresFamilyKeyStore

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
            # None: Powertools creates its client on the first fetch, not here.
            secrets_client=self.clients.secretsmanager,
            ssm_client=self.clients.ssm,
        )

    def _build_audit_keys(self) -> AuditKeys:
        from service.audit import AuditKeys, local_audit_keys

        settings = self.settings
        if settings.audit_key_secret_arn:
            return AuditKeys.from_secret_string(
                self.secrets.get_secret(settings.audit_key_secret_arn))
        if settings.is_lambda:
            raise RuntimeError("AUDIT_KEY_SECRET_ARN is required in Lambda")
        return local_audit_keys(settings.local_dir, settings.audit_dev_key)

    def _build_audit_signer(self) -> AuditSigner:
        from service.audit import AuditSigner

        return AuditSigner(self.audit_keys)

    def _build_anchor_store(self) -> AnchorStore:
        from service.audit import DirectoryAnchorStore, S3AnchorStore

        settings = self.settings
        if settings.audit_anchor_bucket:
            client = self.clients.s3 or self._new_client("s3")
            return S3AnchorStore(settings.audit_anchor_bucket, client)
        if settings.is_lambda:
            raise RuntimeError("AUDIT_ANCHOR_BUCKET is required in Lambda")
        return DirectoryAnchorStore(settings.local_dir / ANCHOR_DIR)

    def _build_chat_config(self) -> ChatConfig:
        from service.chat.config import chat_config

        name = self.settings.ai_settings_parameter_name
        parameter = self.secrets.get_parameter(name, decrypt=False) if name else None
        return chat_config(self.settings, parameter)

    def _build_chat_model(self) -> ChatModel:
        config = self.chat_config
        if config.provider == "bedrock":
            from service.chat.bedrock import BedrockConverseModel, Guardrail, bedrock_runtime_client

            guardrail = None
            if config.guardrail_id:
                guardrail = Guardrail(config.guardrail_id, config.guardrail_version or "DRAFT")
            # Two attempts of at most half the message budget each (botocore has no deadline).
            client = bedrock_runtime_client(region_name=self.settings.aws_region,
                                            read_timeout=config.timeout_seconds / 2)
            return BedrockConverseModel(client=client, model_id=str(config.model),
                                        guardrail=guardrail)
        if config.provider == "openai":
            from service.chat.openai_compat import OpenAICompatibleModel

            api_key = self.settings.chat_api_key
            if config.api_key_secret_arn:
                api_key = self.secrets.get_secret(config.api_key_secret_arn)
            return OpenAICompatibleModel(base_url=str(config.base_url), model=str(config.model),
                                         api_key=api_key, read_timeout=config.timeout_seconds)
        raise RuntimeError("chat is off: no provider configured")

    def _build_assistant(self) -> Assistant:
        from service.chat import Assistant, AssistantLimits
        from service.chat.finance_tools import finance_tools

        config = self.chat_config
        limits = AssistantLimits(max_tool_rounds=config.max_tool_rounds,
                                 max_output_tokens=config.max_output_tokens,
                                 timeout=config.timeout_seconds)
        return Assistant(model=self.chat_model, tools=finance_tools(self.database),
                         limits=limits)

    def _build_dev_issuer(self) -> DevIssuer | None:
        if not self.settings.dev_issuer:
            return None
        from devtools.dev_issuer import DevIssuer

        return DevIssuer(self.settings.local_dir)

    # -- bank sync ---------------------------------------------------------------------------
    def _build_bank_providers(self) -> ProviderRegistry:
        import json

        import httpx

        from service.banking.port import ProviderRegistry
        from service.banking.truelayer import TrueLayerConfig, TrueLayerHttp, TrueLayerProvider

        settings = self.settings
        if settings.bank_provider_environment == "local":
            config = TrueLayerConfig.local_sandbox(
                settings.bank_base_url or "http://127.0.0.1:8766")
        else:
            if not settings.bank_client_secret_arn:
                raise RuntimeError("BANK_CLIENT_SECRET_ARN is required for TrueLayer")
            creds = json.loads(self.secrets.get_secret(settings.bank_client_secret_arn))
            make = (TrueLayerConfig.live if settings.bank_provider_environment == "live"
                    else TrueLayerConfig.sandbox)
            config = make(client_id=str(creds["client_id"]),
                          client_secret=str(creds["client_secret"]))
        client = httpx.Client(follow_redirects=False)
        return ProviderRegistry(TrueLayerProvider(config, http=TrueLayerHttp(config,
                                                                             client=client)))

    def _build_run_store(self) -> RunStore:
        from service.repositories.sync_runs import DatabaseRunStore

        return DatabaseRunStore(self.database)

    def bank_sync_steps(self) -> Any:
        """Step name -> function of the bank sync on this container's adapters."""
        from service.repositories.bank_ingestion import DatabaseIngestion
        from service.workflows.bank_sync import BankSyncDeps, bank_sync_steps
        from service.workflows.insights_hook import insights_post_sync_hook
        from service.workflows.targets import DatabaseSyncTargets

        deps = BankSyncDeps(providers=self.bank_providers,
                            targets=DatabaseSyncTargets(self.database, self.keyring),
                            ingestion=DatabaseIngestion(self.database),
                            hooks=(insights_post_sync_hook(self.database),))
        return bank_sync_steps(deps)

    def _build_sync_launcher(self) -> SyncLauncher:
        from service.workflows.bank_sync import BANK_SYNC
        from service.workflows.launcher import InProcessLauncher, StepFunctionsLauncher
        from service.workflows.runner import InProcessRunner

        settings = self.settings
        if settings.bank_sync_state_machine_arn:
            client = self.clients.stepfunctions or self._new_client("stepfunctions")
            return StepFunctionsLauncher(client, settings.bank_sync_state_machine_arn,
                                         definition=BANK_SYNC, store=self.run_store)
        if settings.is_lambda:
            raise RuntimeError("BANK_SYNC_STATE_MACHINE_ARN is required in Lambda")
        runner = InProcessRunner(BANK_SYNC, self.bank_sync_steps(), store=self.run_store,
                                 sleep=self._workflow_sleep or time.sleep)
        return InProcessLauncher(runner, self.run_store)
