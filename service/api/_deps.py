"""What blueprints take from the request context, typed for the use cases."""

from __future__ import annotations

import ipaddress

from flask import request

from service.audit import AuditSigner
from service.crypto import FamilyKeyring
from service.http.context import current_services
from service.use_cases.connections import BankContext


def keyring() -> FamilyKeyring:
    """The application's family data keys (KMS + DynamoDB in Lambda, local otherwise)."""
    return current_services().keyring


def audit_signer() -> AuditSigner:
    """Seals audit entries with the current audit key (read once per container)."""
    return current_services().audit_signer


def viewer_ip() -> str | None:
    """The end user's IP from ``CloudFront-Viewer-Address`` (``ip:port``), or ``None``.

    Only the edge distribution sets that header (it overwrites any a client sends, and the
    origin is reachable only through it); ``X-Forwarded-For`` is never read because any
    client can write it.
    """
    raw = request.headers.get("CloudFront-Viewer-Address", "").strip()
    host = raw.rsplit(":", 1)[0] if ":" in raw else raw
    try:
        return str(ipaddress.ip_address(host.strip("[]"))) if host else None
    except ValueError:
        return None


def bank_context() -> BankContext:
    """The connection use cases' dependencies for this request."""
    services = current_services()
    redirect = services.settings.bank_redirect_uri or (
        request.host_url.rstrip("/") + "/v1/connections/callback")
    return BankContext(signer=services.audit_signer, keyring=services.keyring,
                       providers=services.bank_providers,
                       launcher=lambda: services.sync_launcher,
                       redirect_uri=redirect)
