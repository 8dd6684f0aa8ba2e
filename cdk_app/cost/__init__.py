"""Idle and per-request cost of the synthesised stages (``make cost``).

Pipeline: :mod:`~cdk_app.cost.assembly` reads ``cdk.out`` into stages of stack
templates; :mod:`~cdk_app.cost.idle` prices each resource for a month without
traffic and :mod:`~cdk_app.cost.traffic` one million requests through the request
path, from the dated table and usage model of :mod:`~cdk_app.cost.prices`;
:mod:`~cdk_app.cost.report` adds them up per stage. A resource type without a rule
is reported *unpriced*, never counted as free. Nothing here imports the CDK.
"""

from __future__ import annotations

from cdk_app.cost.assembly import AssemblyError, StackTemplate, Stage, read_assembly
from cdk_app.cost.prices import (
    MissingPriceError,
    PriceTable,
    UsageModel,
    load_price_table,
    load_usage_model,
)
from cdk_app.cost.report import StageReport, build_report, render

__all__ = [
    "AssemblyError",
    "MissingPriceError",
    "PriceTable",
    "StackTemplate",
    "Stage",
    "StageReport",
    "UsageModel",
    "build_report",
    "load_price_table",
    "load_usage_model",
    "read_assembly",
    "render",
]
