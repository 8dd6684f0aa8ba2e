"""What blueprints take from the request context, typed for the use cases."""

from __future__ import annotations

from service.audit import AuditSigner
from service.crypto import FamilyKeyring
from service.http.context import current_services


def keyring() -> FamilyKeyring:
    """The application's family data keys (KMS + DynamoDB in Lambda, local otherwise)."""
    return current_services().keyring


def audit_signer() -> AuditSigner:
    """Seals audit entries with the current audit key (read once per container)."""
    return current_services().audit_signer
