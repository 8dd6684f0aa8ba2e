"""The platform app's own accepted findings: its one registry.

The library's constructs accept their own design decisions on their own resources;
what is here is this app's to decide (which secrets its providers issue, how it
wires CloudFront to the origin-verify secret). Paths are relative to the stage. The
gate applies these and reports any entry that no longer acknowledges a finding.
"""

from __future__ import annotations

from cdk_app.app import PIPELINE_STACK_ID
from cdk_app.config import available_stages
from constructs_lib.gate.app_acknowledgements import TOP_LEVEL_STAGE, AppAcknowledgement

_STAGES = tuple(available_stages())

_ROTATION_RULES = ("AwsSolutions-SMG4", "NIST.800.53.R5-SecretsManagerRotationEnabled",
                   "HIPAA.Security-SecretsManagerRotationEnabled")

_PROVIDER_ISSUED = (
    "Issued by the Open Banking provider (its client secret): a new "
    "value can only be obtained from the provider's console/API, so rotation is the "
    "provider-driven runbook (put the new value, old one revoked by the provider). A "
    "Secrets Manager rotation function has nothing it could generate."
)
_SMOKE_USER = (
    "The smoke-test user's password must equal the one set on its Cognito user in the "
    "first stage's pool, so a rotation function would have to change that user in another "
    "account; it is rotated by the runbook (new value here, then on the Cognito user). "
    "The user belongs to no family and holds synthetic data only."
)
_ORIGIN_VERIFY = (
    "CloudFront reads the origin-verify header through a {{resolve:secretsmanager}} "
    "reference at deploy time, so automatic rotation would make CloudFront and the service "
    "disagree and lock clients out. It is rotated by the runbook: put a new value, then "
    "deploy the Api stack; new Lambda containers load it on cold start."
)
_AUDIT_KEY = (
    "The audit chain's HMAC keys are rotated by adding a key and moving \"current\"; "
    "older keys must stay to verify entries sealed with them. A Secrets Manager rotation "
    "replaces the secret's value, so it is the runbook (put the JSON with one more key); "
    "the service reads the secret once per container."
)
_ANCHOR_OBJECTS = (
    "The anchor function may only s3:PutObject under the anchor prefix of the Object Lock "
    "(compliance mode) bucket; anchors are named by the time they are taken, so the object "
    "name cannot be known in advance. It cannot read, delete or change retention."
)
# The anchor bucket's ARN reaches the Api stack as a cross-stack output of the Data stack.
_ANCHOR_BUCKET_ARN = (
    '{{"Fn::GetStackOutput":{{"StackName":"{stage}-Data","Region":"{{region}}",'
    '"OutputName":"PublishOutputFnGetAttAuditAnchorsBucket8CB21977Arn008DA607"}}}}'
)

ACKNOWLEDGEMENTS: tuple[AppAcknowledgement, ...] = (
    *(AppAcknowledgement(rule_id=rule, path=path, reason=_PROVIDER_ISSUED, stages=_STAGES)
      for rule in _ROTATION_RULES
      for path in ("Data/Secrets/BankClient/Resource",)),
    *(AppAcknowledgement(rule_id=rule, path="Data/Secrets/OriginVerify/Resource",
                         reason=_ORIGIN_VERIFY, stages=_STAGES)
      for rule in _ROTATION_RULES),
    *(AppAcknowledgement(rule_id=rule, path="Data/Secrets/AuditKey/Resource",
                         reason=_AUDIT_KEY, stages=_STAGES)
      for rule in _ROTATION_RULES),
    *(AppAcknowledgement(rule_id=rule, path=f"{PIPELINE_STACK_ID}/SmokeUser/Resource",
                         reason=_SMOKE_USER, stages=(TOP_LEVEL_STAGE,))
      for rule in _ROTATION_RULES),
    *(AppAcknowledgement(
        rule_id=("AwsSolutions-IAM5[Resource::"
                 + _ANCHOR_BUCKET_ARN.format(stage=stage) + "/audit-anchors/*]"),
        path="Api/AuditAnchoring/Function/Role/DefaultPolicy/Resource",
        reason=_ANCHOR_OBJECTS, stages=(stage,))
      for stage in _STAGES),
)
