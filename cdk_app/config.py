"""Typed per-stage configuration, loaded from ``cdk_app/config/<stage>.json``.

Stages differ only through these values; no code branches on the stage name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, model_validator

CONFIG_DIR = Path(__file__).parent / "config"
PIPELINE_CONFIG = CONFIG_DIR / "pipeline.json"
"""The delivery pipeline's config; every other file in ``config/`` is a stage."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(_Frozen):
    max_azs: int = Field(ge=2, le=3)
    flow_log_retention_days: int


class DatabaseConfig(_Frozen):
    min_capacity_acu: float = Field(ge=0)
    max_capacity_acu: float = Field(ge=1)
    auto_pause_minutes: int | None = Field(default=None, ge=5, le=1440)
    backup_retention_days: int = Field(ge=1, le=35)
    deletion_protection: bool
    retain_on_delete: bool
    backup_compliance_lock_days: int | None = Field(default=None, ge=3)
    """Vault lock in compliance mode after this grace period (immutable); None: governance."""


class FunctionConfig(_Frozen):
    memory_mb: int = Field(ge=128, le=10240)
    timeout_seconds: int = Field(ge=1, le=900)
    reserved_concurrency: int = Field(ge=1)
    deployment: Literal[
        "all_at_once", "canary_10_percent_5_minutes", "linear_10_percent_every_1_minute"
    ]
    p99_latency_alarm_ms: int = Field(ge=100)


class HttpApiConfig(_Frozen):
    throttle_rate_per_second: int = Field(ge=1)
    throttle_burst: int = Field(ge=1)
    domain_name: str | None = None
    """Regional custom domain CloudFront uses as origin (execute-api then disabled)."""
    certificate_arn: str | None = None
    """ACM certificate of ``domain_name``, in the stage's own region."""


class UserPoolConfig(_Frozen):
    self_sign_up: bool


class EdgeConfig(_Frozen):
    domain_names: tuple[str, ...] = ()
    certificate_arn: str | None = None
    waf_rate_limit_per_5_minutes: int = Field(ge=100)
    price_class: Literal["PRICE_CLASS_100", "PRICE_CLASS_200", "PRICE_CLASS_ALL"]


class ChatConfig(_Frozen):
    """The assistant's Bedrock model: an inference profile and the models behind it."""

    inference_profile: str = "eu.anthropic.claude-3-7-sonnet-20250219-v1:0"
    """System-defined cross-Region profile id (the AI settings' ``model``)."""
    foundation_model: str = "anthropic.claude-3-7-sonnet-20250219-v1:0"
    destination_regions: tuple[str, ...] = ("eu-central-1", "eu-north-1", "eu-west-1",
                                            "eu-west-3")
    """Regions the profile routes to (the foundation-model ARNs granted)."""
    max_output_tokens: int = Field(default=1024, ge=64, le=8192)


CONSENT_CALLBACK_PATH = "/v1/connections/callback"
"""The route of the consent callback (``GET``; a public route of the service contract)."""

# Where each TrueLayer environment publishes its webhook signing keys (jku hosts).
_JKU_HOSTS = {"sandbox": ".truelayer-sandbox.com", "live": ".truelayer.com"}
_CLOUDFRONT_DEFAULT_DOMAIN = ".cloudfront.net"


class BankProviderConfig(_Frozen):
    """The Open Banking provider (TrueLayer) of a stage."""

    environment: Literal["sandbox", "live"]
    redirect_uri: str
    """``https://<stage domain>/v1/connections/callback``, as registered in TrueLayer's console."""
    jku_allowlist: tuple[str, ...] = Field(min_length=1)
    """The ``jku`` URLs whose keys may sign webhooks (TrueLayer's published JWKS)."""

    @model_validator(mode="after")
    def _consistent(self) -> BankProviderConfig:
        uri = urlsplit(self.redirect_uri)
        if uri.scheme != "https" or not uri.hostname or uri.path != CONSENT_CALLBACK_PATH \
                or uri.query or uri.fragment:
            raise ValueError(f"bank_provider.redirect_uri must be https://<stage domain>"
                             f"{CONSENT_CALLBACK_PATH} without query or fragment, got "
                             f"{self.redirect_uri!r}")
        suffix = _JKU_HOSTS[self.environment]
        for jku in self.jku_allowlist:
            parts = urlsplit(jku)
            host = parts.hostname or ""
            # A live host ends in .truelayer.com, a sandbox host in .truelayer-sandbox.com:
            # a stage never trusts the other environment's signing keys.
            if parts.scheme != "https" or not host.endswith(suffix):
                raise ValueError(f"bank_provider.jku_allowlist entry {jku!r} is not an https "
                                 f"URL on *{suffix}, where TrueLayer's {self.environment} "
                                 "environment publishes its webhook keys")
        return self


class SyncConfig(_Frozen):
    """The daily fan-out that syncs every active connection, and the run sweep."""

    max_concurrency: int = Field(ge=1, le=1000)
    """Connections synced at once. TrueLayer rate-limits per client, so the stage caps this
    well below Step Functions' 10,000; it must also stay below the worker's reserved
    concurrency, which API-started syncs share."""
    schedule_hour: int = Field(ge=0, le=23)
    schedule_minute: int = Field(ge=0, le=59)
    time_zone: str = "Europe/London"
    manifest_retention_days: int = Field(default=14, ge=1, le=90)
    sweep_interval_minutes: int = Field(default=5, ge=1, le=60)
    """How often the worker's ``sweep`` runs: it fails runs a dead worker left unfinished (once
    their lease, derived from the workflow definition, has passed) and resumes deferred runs
    whose time has come, so a due run waits at most this long beyond it."""

    @model_validator(mode="after")
    def _known_zone(self) -> SyncConfig:
        if self.time_zone not in available_timezones():
            raise ValueError(f"sync.time_zone {self.time_zone!r} is not an IANA time zone")
        return self


class RetentionConfig(_Frozen):
    """When the worker's daily ``retention`` action runs: it deletes chat conversations past
    their retention and webhook event ids older than a week (see
    :mod:`service.use_cases.retention`)."""

    schedule_hour: int = Field(default=4, ge=0, le=23)
    schedule_minute: int = Field(default=30, ge=0, le=59)
    time_zone: str = "Europe/London"

    @model_validator(mode="after")
    def _known_zone(self) -> RetentionConfig:
        if self.time_zone not in available_timezones():
            raise ValueError(f"retention.time_zone {self.time_zone!r} is not an IANA time zone")
        return self


class AuditConfig(_Frozen):
    """The audit chain's anchoring: how often, and how long each anchor is locked."""

    anchor_interval_minutes: int = Field(ge=1, le=1440)
    anchor_retention_days: int = Field(ge=1)
    """Compliance-mode Object Lock of each anchor: nothing can delete it sooner."""


class OptOutConfig(_Frozen):
    setting: str
    reason: str
    finding_ids: tuple[str, ...] = ()


class StageConfig(_Frozen):
    """Everything that differs between staging and prod."""

    stage: str
    account: str = Field(pattern=r"^\d{12}$")
    region: str
    resource_prefix: str = Field(pattern=r"^[a-z][a-z0-9-]{2,30}$")
    alarm_email: str
    log_retention_days: int
    network: NetworkConfig
    database: DatabaseConfig
    api_function: FunctionConfig
    http_api: HttpApiConfig
    user_pool: UserPoolConfig
    edge: EdgeConfig
    chat: ChatConfig = ChatConfig()
    bank_provider: BankProviderConfig
    worker_function: FunctionConfig
    sync: SyncConfig
    retention: RetentionConfig = RetentionConfig()
    audit: AuditConfig
    opt_outs: tuple[OptOutConfig, ...] = ()

    @model_validator(mode="after")
    def _bank_sync_fits(self) -> StageConfig:
        host = urlsplit(self.bank_provider.redirect_uri).hostname or ""
        if self.edge.domain_names and host not in self.edge.domain_names:
            raise ValueError(f"bank_provider.redirect_uri is on {host!r}, not on the stage's "
                             f"domain {list(self.edge.domain_names)}: the callback must reach "
                             "this stage's CloudFront distribution")
        if not self.edge.domain_names and not host.endswith(_CLOUDFRONT_DEFAULT_DOMAIN):
            raise ValueError(f"bank_provider.redirect_uri is on {host!r}, but the stage has no "
                             "custom domain: use its CloudFront domain (the ApiUrl output)")
        if self.sync.max_concurrency >= self.worker_function.reserved_concurrency:
            raise ValueError(f"sync.max_concurrency ({self.sync.max_concurrency}) must be below "
                             "worker_function.reserved_concurrency "
                             f"({self.worker_function.reserved_concurrency}): user-started "
                             "syncs and the fan-out's own tasks share the worker")
        return self


class PipelineConfig(_Frozen):
    """The delivery pipeline: where it runs, what it builds, the order it deploys in."""

    account: str = Field(pattern=r"^\d{12}$")
    region: str
    pipeline_name: str = Field(pattern=r"^[A-Za-z0-9.@_-]{1,100}$")
    connection_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:"
                r"connection/[0-9a-f-]{36}$")
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    branch: str = Field(min_length=1)
    stages: tuple[str, ...] = Field(min_length=1)
    """Stage names in deployment order (each has ``config/<stage>.json``)."""
    approval_before: tuple[str, ...] = ()
    """Stages that wait for a manual approval before they deploy."""
    smoke_test_stages: tuple[str, ...] = ()
    """Stages smoke-tested right after they deploy (before any later approval)."""
    smoke_user_secret_name: str = Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")
    """Secrets Manager secret (pipeline account) holding the smoke-test user's
    ``{"username": ..., "password": ...}``; created empty by the stack, set by an operator."""

    @model_validator(mode="after")
    def _known_stages(self) -> PipelineConfig:
        if len(set(self.stages)) != len(self.stages):
            raise ValueError(f"stages repeat a name: {list(self.stages)}")
        for field in ("approval_before", "smoke_test_stages"):
            unknown = set(getattr(self, field)) - set(self.stages)
            if unknown:
                raise ValueError(f"{field} names stages the pipeline does not deploy: "
                                 f"{sorted(unknown)}")
        if self.stages and self.stages[0] in self.approval_before:
            raise ValueError("the first stage is the one that is smoke-tested before any "
                             "approval; an approval before it guards nothing")
        return self


def available_stages() -> list[str]:
    """Stage names, one per file in ``config/`` (but the pipeline's), in a stable order."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.json") if p != PIPELINE_CONFIG)


def load_pipeline_config(path: Path = PIPELINE_CONFIG) -> PipelineConfig:
    """Read and validate ``config/pipeline.json``; its stages must have configs."""
    config = PipelineConfig.model_validate_json(path.read_text())
    missing = [s for s in config.stages if not (CONFIG_DIR / f"{s}.json").exists()]
    if missing:
        raise ValueError(f"{path} deploys stages without a config: {missing}")
    return config


def load_stage_config(stage: str) -> StageConfig:
    """Read and validate ``config/<stage>.json``."""
    path = CONFIG_DIR / f"{stage}.json"
    if not path.exists():
        raise FileNotFoundError(f"No config for stage {stage!r}; expected {path}")
    config = StageConfig.model_validate_json(path.read_text())
    if config.stage != stage:
        raise ValueError(f"{path} declares stage {config.stage!r}, expected {stage!r}")
    return config
