"""The service's Lambda code: one Docker-free asset for every function of the app."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from constructs_lib import LambdaAsset, build_lambda_asset

ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIR = ROOT / "service"
ASSET_CACHE = ROOT / ".cache" / "lambda-assets"


@cache
def _asset() -> LambdaAsset:
    return build_lambda_asset(source_dir=SERVICE_DIR, cache_dir=ASSET_CACHE)


def service_code() -> lambda_.Code:
    """The ``service/`` asset (built once per process, cached on disk by content hash)."""
    return _asset().code()
