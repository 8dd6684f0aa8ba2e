"""The insights post-sync hook: categorise and re-detect recurring series after a bank sync.

Wire it into the bank-sync workflow's ``post_processing`` step::

    deps = BankSyncDeps(..., hooks=(insights_post_sync_hook(database),))

The hook finds the families of the synced accounts and runs
:func:`service.use_cases.insights.refresh_after_sync` for each; the refresh is idempotent,
so the step's retries and re-runs change nothing. Database errors propagate, so a
transient one is retried by the step's policy.
"""

from __future__ import annotations

import logging

from service.db.port import Database
from service.repositories import insights as insights_repo
from service.use_cases import insights as insights_uc
from service.workflows.bank_sync import PostSyncEvent, PostSyncHook

_LOG = logging.getLogger(__name__)


def insights_post_sync_hook(database: Database) -> PostSyncHook:
    """A :data:`~service.workflows.bank_sync.PostSyncHook` refreshing insights on
    ``database`` for the families of the event's accounts."""

    def refresh(event: PostSyncEvent) -> None:
        if not event.account_ids:
            return
        grouped = insights_repo.accounts_by_family(database, event.account_ids)
        for family_id, account_ids in grouped.items():
            counts = insights_uc.refresh_after_sync(database, family_id=family_id,
                                                    account_ids=account_ids)
            _LOG.info("insights refreshed", extra={"run_id": event.run_id,
                                                   "family_id": str(family_id),
                                                   **counts.as_dict()})

    return refresh
