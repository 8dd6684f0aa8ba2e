"""What the service needs from its deployment: environment names and public routes.

Declared once, here, by the service; free of CDK and Flask so that both sides import
it: :mod:`service.settings` reads these names, and ``cdk_app`` sets them and passes
the public routes (with their reasons) to the HTTP API construct.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "AI_SETTINGS_PARAMETER_NAME",
    "API_HANDLER",
    "AUDIT_ANCHOR_BUCKET",
    "AUDIT_ANCHOR_HANDLER",
    "AUDIT_ANCHOR_INTERVAL_MINUTES",
    "AUDIT_KEY_SECRET_ARN",
    "BANK_CLIENT_SECRET_ARN",
    "BANK_PROVIDER_ENVIRONMENT",
    "BANK_REDIRECT_URI",
    "BANK_SYNC_STATE_MACHINE_ARN",
    "CHAT_API_KEY_SECRET_ARN",
    "CHAT_BASE_URL",
    "CHAT_DAILY_MESSAGES",
    "CHAT_GUARDRAIL_ID",
    "CHAT_GUARDRAIL_VERSION",
    "CHAT_MODEL",
    "CHAT_PROVIDER",
    "CHAT_RETENTION_DAYS",
    "COGNITO_CLIENT_ID",
    "COGNITO_REGION",
    "COGNITO_USER_POOL_ID",
    "DB_APP_ROLE",
    "DB_CLUSTER_ARN",
    "DB_NAME",
    "DB_OWNER_SECRET_ARN",
    "DB_ROLE_NAME",
    "DB_ROLE_ROTATION_HANDLER",
    "DB_SECRET_ARN",
    "FAMILY_KEYS_TABLE_NAME",
    "LOG_LEVEL",
    "MIGRATION_HOOK_HANDLER",
    "ORIGIN_VERIFY_SECRET_ARN",
    "POWERTOOLS_SERVICE_NAME",
    "PUBLIC_ROUTES",
    "SERVICE_RUNTIME",
    "SYNC_MANIFEST_BUCKET",
    "TOKEN_ENCRYPTION_CONTEXT_KEYS",
    "TOKEN_KMS_KEY_ARN",
    "TRUELAYER_JKU_ALLOWLIST",
    "WORKER_HANDLER",
    "PublicRoute",
]

# -- environment variable names (values are names/ARNs only, never secrets) -------------
SERVICE_RUNTIME: Final = "SERVICE_RUNTIME"
DB_CLUSTER_ARN: Final = "DB_CLUSTER_ARN"
DB_SECRET_ARN: Final = "DB_SECRET_ARN"
"""Secret of the least-privilege application role (what the API uses)."""
DB_OWNER_SECRET_ARN: Final = "DB_OWNER_SECRET_ARN"
"""Secret of the owner/master role: migrations and the rotation function only."""
DB_NAME: Final = "DB_NAME"
TOKEN_KMS_KEY_ARN: Final = "TOKEN_KMS_KEY_ARN"
FAMILY_KEYS_TABLE_NAME: Final = "FAMILY_KEYS_TABLE_NAME"
COGNITO_USER_POOL_ID: Final = "COGNITO_USER_POOL_ID"
COGNITO_CLIENT_ID: Final = "COGNITO_CLIENT_ID"
COGNITO_REGION: Final = "COGNITO_REGION"
ORIGIN_VERIFY_SECRET_ARN: Final = "ORIGIN_VERIFY_SECRET_ARN"
BANK_CLIENT_SECRET_ARN: Final = "BANK_CLIENT_SECRET_ARN"
AI_SETTINGS_PARAMETER_NAME: Final = "AI_SETTINGS_PARAMETER_NAME"
DB_ROLE_NAME: Final = "DB_ROLE_NAME"
"""The role whose password the rotation function changes (rotation function only)."""
AUDIT_KEY_SECRET_ARN: Final = "AUDIT_KEY_SECRET_ARN"
"""Secret of the audit chain's HMAC keys (``{"current": id, "keys": {id: base64}}``)."""
AUDIT_ANCHOR_BUCKET: Final = "AUDIT_ANCHOR_BUCKET"
"""Bucket (Object Lock, compliance mode) that receives the chain-head anchors."""
AUDIT_ANCHOR_INTERVAL_MINUTES: Final = "AUDIT_ANCHOR_INTERVAL_MINUTES"
LOG_LEVEL: Final = "LOG_LEVEL"
POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"

# -- bank sync workflows (issue 8: infrastructure) ------------------------------------------
BANK_SYNC_STATE_MACHINE_ARN: Final = "BANK_SYNC_STATE_MACHINE_ARN"
"""The bank-sync state machine (the API and the worker start runs on it)."""
SYNC_MANIFEST_BUCKET: Final = "SYNC_MANIFEST_BUCKET"
"""Bucket the worker's ``manifest`` action writes the daily fan-out's item list to."""
BANK_PROVIDER_ENVIRONMENT: Final = "BANK_PROVIDER_ENVIRONMENT"
"""``"sandbox"`` or ``"live"``: which TrueLayer environment the stage talks to."""
BANK_REDIRECT_URI: Final = "BANK_REDIRECT_URI"
"""The consent callback URL (``GET /v1/connections/callback`` on the stage's domain)."""
TRUELAYER_JKU_ALLOWLIST: Final = "TRUELAYER_JKU_ALLOWLIST"
"""Comma-separated ``jku`` URLs whose keys may sign TrueLayer webhooks."""

# -- chat (issue 11). In AWS the AI-settings parameter (AI_SETTINGS_PARAMETER_NAME) is the
# source of provider and model; these names serve local runs and the guardrail/secret ids.
CHAT_PROVIDER: Final = "CHAT_PROVIDER"
"""``bedrock`` | ``openai``; unset (and no AI-settings parameter): chat is off (503)."""
CHAT_MODEL: Final = "CHAT_MODEL"
"""Bedrock model or inference-profile id, or the OpenAI-compatible server's model name."""
CHAT_BASE_URL: Final = "CHAT_BASE_URL"
"""OpenAI-compatible base URL up to the version segment (``http://127.0.0.1:11434/v1``)."""
CHAT_API_KEY_SECRET_ARN: Final = "CHAT_API_KEY_SECRET_ARN"
"""Secret holding the OpenAI-compatible endpoint's API key (locally: ``CHAT_API_KEY``)."""
CHAT_GUARDRAIL_ID: Final = "CHAT_GUARDRAIL_ID"
CHAT_GUARDRAIL_VERSION: Final = "CHAT_GUARDRAIL_VERSION"
CHAT_RETENTION_DAYS: Final = "CHAT_RETENTION_DAYS"
"""Days a conversation is kept after its last message (then unreadable and purged)."""
CHAT_DAILY_MESSAGES: Final = "CHAT_DAILY_MESSAGES"
"""Messages one member may send per UTC day in one family."""


# -- code entry points and the database role --------------------------------------------
API_HANDLER: Final = "service.lambda_handler.handler"
MIGRATION_HOOK_HANDLER: Final = "service.db.migrate_hook.handler"
"""Applies pending migrations as the owner: CodeDeploy's ``BeforeAllowTraffic`` hook."""
AUDIT_ANCHOR_HANDLER: Final = "service.audit.scheduled.handler"
"""Anchors the audit chain heads (the schedule's target, every AUDIT_ANCHOR_INTERVAL_MINUTES)."""
DB_ROLE_ROTATION_HANDLER: Final = "service.db.role_rotation.handler"
"""Secrets Manager rotation of the application role's password through the Data API."""
WORKER_HANDLER: Final = "service.workflows.worker_handler.handler"
"""The workflow worker: ``create``/``step``/``fail``/``manifest`` actions of the state machines,
``sweep`` and ``retention`` of their schedules (events in
:mod:`service.workflows.worker_handler`)."""
DB_APP_ROLE: Final = "app_runtime"
"""The least-privilege PostgreSQL role the API runs as (created by the migrations)."""

TOKEN_ENCRYPTION_CONTEXT_KEYS: Final = ("family",)
"""The KMS encryption context of every per-family data key (``{"family": <family id>}``)."""


@dataclass(frozen=True, slots=True)
class PublicRoute:
    """A route served without a user token, and why that is safe."""

    key: str
    """``"METHOD /path"`` as API Gateway writes it."""
    reason: str
    planned: bool = False
    """Declared for the edge (WAF/API routes) before the service serves it."""


PUBLIC_ROUTES: Final[tuple[PublicRoute, ...]] = (
    PublicRoute("GET /health", "Liveness probe: makes no database call and returns no "
                               "customer data."),
    PublicRoute("GET /openapi.json", "The API description is public by design and holds no "
                                     "data."),
    PublicRoute("GET /docs", "Static API documentation page; holds no data."),
    PublicRoute("GET /v1/connections/callback",
                "The bank redirects the user's browser here without a bearer token; the "
                "single-use, expiring consent state (only its digest is stored, bound to the "
                "user and family) authorises it, and anything else answers 400."),
    PublicRoute("POST /v1/webhooks/truelayer",
                "TrueLayer webhooks carry no user token; the service verifies the provider's "
                "signature (Tl-Signature, allow-listed jku, fresh timestamp) before it acts "
                "on the body."),
    PublicRoute("GET /v1/connections/callback",
                "Consent callback: the browser carries no bearer token; the single-use state "
                "alone authorises it."),
)
