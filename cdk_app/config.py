"""Typed per-stage configuration, loaded from ``cdk_app/config/<stage>.json``.

Stages differ only through these values; no code branches on the stage name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CONFIG_DIR = Path(__file__).parent / "config"


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
    opt_outs: tuple[OptOutConfig, ...] = ()


def available_stages() -> list[str]:
    """Stage names, one per file in ``config/``, in a stable order."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.json"))


def load_stage_config(stage: str) -> StageConfig:
    """Read and validate ``config/<stage>.json``."""
    path = CONFIG_DIR / f"{stage}.json"
    if not path.exists():
        raise FileNotFoundError(f"No config for stage {stage!r}; expected {path}")
    config = StageConfig.model_validate_json(path.read_text())
    if config.stage != stage:
        raise ValueError(f"{path} declares stage {config.stage!r}, expected {stage!r}")
    return config
