"""The dated price table (``price_table.json``) and the usage model (``usage_model.json``).

Both are data, kept beside the code and read with pydantic so a typo fails loudly. A
price is looked up by key and region; keys priced the same everywhere (CloudFront,
WAF) use the region ``global``. A missing price raises :class:`MissingPriceError`,
which the report turns into an *unpriced* line instead of a silent zero.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HERE = Path(__file__).resolve().parent
DEFAULT_PRICE_TABLE = HERE / "price_table.json"
DEFAULT_USAGE_MODEL = HERE / "usage_model.json"

Verification = Literal["aws-page", "secondary", "unverified"]
# Weakest first: a figure computed from several prices is as good as its weakest one.
VERIFICATION_ORDER: tuple[Verification, ...] = ("unverified", "secondary", "aws-page")


class MissingPriceError(LookupError):
    """The table has no price for a key in a region."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionalPrice(_Frozen):
    usd: float = Field(ge=0)
    verified: Verification


class PriceEntry(_Frozen):
    unit: str
    source: str
    note: str | None = None
    regions: dict[str, RegionalPrice]


class Price(_Frozen):
    """One price as looked up: what it costs, per what, and how sure we are."""

    key: str
    region: str
    usd: float
    unit: str
    verified: Verification


class PriceTable(_Frozen):
    """The whole table (see ``price_table.json`` for the meaning of each field)."""

    title: str
    as_of: date
    currency: Literal["USD"]
    hours_per_month: float = Field(gt=0)
    verification: dict[Verification, str]
    sources: dict[str, str]
    prices: dict[str, PriceEntry]

    def price(self, key: str, region: str) -> Price:
        """The price of ``key`` in ``region`` (or its ``global`` price).

        Raises
        ------
        MissingPriceError
            If the key is unknown or has no price for the region.
        """
        entry = self.prices.get(key)
        if entry is None:
            raise MissingPriceError(f"no price {key!r} in the table")
        regional = entry.regions.get(region) or entry.regions.get("global")
        if regional is None:
            raise MissingPriceError(f"no price {key!r} for region {region}")
        return Price(
            key=key, region=region, usd=regional.usd, unit=entry.unit,
            verified=regional.verified,
        )

    def check_sources(self) -> None:
        """Every entry names a source URL of the table."""
        missing = sorted(k for k, e in self.prices.items() if e.source not in self.sources)
        if missing:
            raise ValueError(f"prices without a known source: {', '.join(missing)}")


class IdleUsage(_Frozen):
    aurora_storage_gb: float = Field(ge=0)
    aurora_storage_note: str
    backup_stored_gb_per_plan: float = Field(ge=0)
    backup_note: str
    log_stored_gb_per_group: float = Field(ge=0)
    s3_stored_gb_per_bucket: float = Field(ge=0)
    dynamodb_stored_gb_per_table: float = Field(ge=0)


class RequestUsage(_Frozen):
    lambda_duration_ms: float = Field(gt=0)
    data_api_calls: float = Field(ge=0)
    data_api_note: str
    response_kb: float = Field(ge=0)
    aurora_acu_seconds: float = Field(ge=0)
    aurora_note: str
    lambda_log_bytes: float = Field(ge=0)
    api_access_log_bytes: float = Field(ge=0)
    waf_log_bytes: float = Field(ge=0)


class UsageModel(_Frozen):
    """What the templates cannot tell: stored data at idle, and one request's footprint."""

    title: str
    idle: IdleUsage
    per_request: RequestUsage


def load_price_table(path: Path = DEFAULT_PRICE_TABLE) -> PriceTable:
    """Read and validate a price table."""
    table = PriceTable.model_validate_json(path.read_text(encoding="utf-8"))
    table.check_sources()
    return table


def load_usage_model(path: Path = DEFAULT_USAGE_MODEL) -> UsageModel:
    """Read and validate a usage model."""
    return UsageModel.model_validate_json(path.read_text(encoding="utf-8"))


def weakest(verifications: list[Verification]) -> Verification:
    """The least certain of several verifications (``aws-page`` for none)."""
    return min(verifications, key=VERIFICATION_ORDER.index, default="aws-page")
