"""The deployment contract and the files it must agree with."""

from __future__ import annotations

from service import deployment_contract as contract
from service.db.migrations import DEFAULT_MIGRATIONS_DIR, load_grants


def test_the_database_role_the_stack_rotates_is_the_role_the_migrations_grant() -> None:
    # The rotation secret's username comes from the contract; the privileges from grants.toml.
    grants = load_grants(DEFAULT_MIGRATIONS_DIR)
    assert grants is not None
    assert grants.role == contract.DB_APP_ROLE
