"""Bank-grade AWS CDK v2 constructs: secure by default, weakened only by recorded opt-outs.

Import what you need from the package root::

    from constructs_lib import EncryptionKeys, PrivateNetwork, SecureAuroraCluster, OptOut

and gate your app in CI with :mod:`constructs_lib.gate` (``python -m constructs_lib.gate``).

Names are resolved lazily (PEP 562), so importing the package does not start jsii/Node;
that happens on first use of a construct class, as with ``aws_cdk`` itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from constructs_lib.alarms import AlarmNotifications
    from constructs_lib.audit_anchor_bucket import AuditAnchorBucket
    from constructs_lib.backup import BackupProtection
    from constructs_lib.database import SecureAuroraCluster
    from constructs_lib.database_role import DatabaseRoleSecret
    from constructs_lib.delivery_pipeline import DeliveryPipeline, SmokeTest
    from constructs_lib.deployment_hook import DeploymentHookFunction
    from constructs_lib.drift import DriftDetection, DriftedStack
    from constructs_lib.edge import EDGE_REGION, EdgeDistribution, EdgeProtection
    from constructs_lib.edge_access_logs import EdgeAccessLogs
    from constructs_lib.encryption_keys import DataClass, DirectKeyUse, EncryptionKeys
    from constructs_lib.function import ServiceFunction
    from constructs_lib.guardrail import BedrockGuardrail, DeniedTopic
    from constructs_lib.http_api import PlatformHttpApi
    from constructs_lib.key_store import CryptoShreddingKeyStore
    from constructs_lib.lambda_asset import LambdaAsset, build_lambda_asset
    from constructs_lib.network import PrivateNetwork
    from constructs_lib.opt_outs import OPT_OUT_METADATA_KEY, OptOut, SecureDefaultError
    from constructs_lib.scheduled_invoke import ScheduledInvoke
    from constructs_lib.secrets import AppSecret, AppSecrets
    from constructs_lib.user_pool import FamilyUserPool
    from constructs_lib.workflows import (
        LambdaServiceRetry,
        ManifestBucket,
        ScheduledFanOut,
        StepRetrier,
        StepWorkflow,
        WorkflowSpec,
        WorkflowStep,
    )

_EXPORTS = {
    "EDGE_REGION": "constructs_lib.edge",
    "OPT_OUT_METADATA_KEY": "constructs_lib.opt_outs",
    "AlarmNotifications": "constructs_lib.alarms",
    "AuditAnchorBucket": "constructs_lib.audit_anchor_bucket",
    "BackupProtection": "constructs_lib.backup",
    "BedrockGuardrail": "constructs_lib.guardrail",
    "DeniedTopic": "constructs_lib.guardrail",
    "CryptoShreddingKeyStore": "constructs_lib.key_store",
    "AppSecret": "constructs_lib.secrets",
    "AppSecrets": "constructs_lib.secrets",
    "DatabaseRoleSecret": "constructs_lib.database_role",
    "DataClass": "constructs_lib.encryption_keys",
    "DeliveryPipeline": "constructs_lib.delivery_pipeline",
    "DeploymentHookFunction": "constructs_lib.deployment_hook",
    "DriftDetection": "constructs_lib.drift",
    "DriftedStack": "constructs_lib.drift",
    "SmokeTest": "constructs_lib.delivery_pipeline",
    "DirectKeyUse": "constructs_lib.encryption_keys",
    "EdgeAccessLogs": "constructs_lib.edge_access_logs",
    "EdgeDistribution": "constructs_lib.edge",
    "EdgeProtection": "constructs_lib.edge",
    "EncryptionKeys": "constructs_lib.encryption_keys",
    "FamilyUserPool": "constructs_lib.user_pool",
    "LambdaAsset": "constructs_lib.lambda_asset",
    "OptOut": "constructs_lib.opt_outs",
    "PlatformHttpApi": "constructs_lib.http_api",
    "PrivateNetwork": "constructs_lib.network",
    "ScheduledInvoke": "constructs_lib.scheduled_invoke",
    "SecureAuroraCluster": "constructs_lib.database",
    "SecureDefaultError": "constructs_lib.opt_outs",
    "ServiceFunction": "constructs_lib.function",
    "build_lambda_asset": "constructs_lib.lambda_asset",
    "LambdaServiceRetry": "constructs_lib.workflows",
    "ManifestBucket": "constructs_lib.workflows",
    "ScheduledFanOut": "constructs_lib.workflows",
    "StepRetrier": "constructs_lib.workflows",
    "StepWorkflow": "constructs_lib.workflows",
    "WorkflowSpec": "constructs_lib.workflows",
    "WorkflowStep": "constructs_lib.workflows",
}

__all__ = [
    "EDGE_REGION",
    "OPT_OUT_METADATA_KEY",
    "AlarmNotifications",
    "AppSecret",
    "AppSecrets",
    "AuditAnchorBucket",
    "BackupProtection",
    "BedrockGuardrail",
    "CryptoShreddingKeyStore",
    "DataClass",
    "DatabaseRoleSecret",
    "DeliveryPipeline",
    "DeniedTopic",
    "DeploymentHookFunction",
    "DirectKeyUse",
    "DriftDetection",
    "DriftedStack",
    "EdgeAccessLogs",
    "EdgeDistribution",
    "EdgeProtection",
    "EncryptionKeys",
    "FamilyUserPool",
    "LambdaAsset",
    "LambdaServiceRetry",
    "ManifestBucket",
    "OptOut",
    "PlatformHttpApi",
    "PrivateNetwork",
    "ScheduledFanOut",
    "ScheduledInvoke",
    "SecureAuroraCluster",
    "SecureDefaultError",
    "ServiceFunction",
    "SmokeTest",
    "StepRetrier",
    "StepWorkflow",
    "WorkflowSpec",
    "WorkflowStep",
    "build_lambda_asset",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
