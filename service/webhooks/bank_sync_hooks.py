"""The bank-sync side of TrueLayer's webhooks: record a consent change, resume a waiting run.

Wired by the composition root (:meth:`service.bootstrap.Services.webhook_events`) into
:meth:`~service.webhooks.events.WebhookEvents.truelayer`. Everything happens in the
webhook's transaction (the inbox's): the connection is found by the digest of the provider's
connection id (:func:`service.repositories.connections.provider_digest`), since the id itself
is stored only sealed. Neither hook calls the provider or starts a sync:

* a consent change marks the connection ``revoked`` / ``expired`` with an audit entry by
  ``provider:<name>`` on the family's chain (as every other connection state change by a
  member is audited; a sync's own ``reauth_required`` finding is recorded on its run);
* a finished transactions request resumes the run deferred at ``poll_transactions`` that
  waits on it: the run is claimed (``running``) in the transaction, then the launcher only
  schedules its execution (:meth:`~service.workflows.launcher.SyncLauncher.resume_waiting`).
  A running run is left alone (``already_running``): its poll step is already retrying.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from service.audit import AuditSigner
from service.audit.chain import AuditEvent
from service.db.port import Executor
from service.domain.models import ConnectionStatus
from service.repositories import audit as audit_sql
from service.repositories import connections
from service.repositories.waiting_runs import claim_waiting_run
from service.webhooks.errors import ResumeUnavailableError
from service.webhooks.events import RunAlreadyActive
from service.workflows.launcher import LaunchFailedError, SyncLauncher

#: The bank-sync step that waits for asynchronous transactions requests.
WAITING_STEP = "poll_transactions"

_REASONS = {
    ConnectionStatus.REVOKED: "consent withdrawn at the bank (provider webhook)",
    ConnectionStatus.EXPIRED: "consent expired at the bank (provider webhook)",
}


class BankSyncWebhookHooks:
    """The ``record_consent``, ``find_waiting_run`` and ``resume_run`` hooks of one provider.

    Parameters
    ----------
    provider
        The provider's name as connections store it (``"truelayer"``).
    signer
        Returns the audit signer (called on the first consent change, so a webhook that only
        resumes a run never loads the audit keys).
    launcher
        Returns the run launcher (built lazily, like the signer).
    """

    def __init__(self, *, provider: str, signer: Callable[[], AuditSigner],
                 launcher: Callable[[], SyncLauncher]) -> None:
        self._provider = provider
        self._signer = signer
        self._launcher = launcher

    def record_consent(self, tx: Executor, provider_connection_id: str, status: str,
                       at: datetime) -> bool:
        """Mark the connection ``revoked``/``expired``; ``False`` if it is not ours.

        A connection already revoked, or already in the reported status, is left as it is
        (found, nothing written). The family's audit head is locked before the connection,
        in the order every member change takes, so the two never deadlock.
        """
        target = ConnectionStatus(status)
        digest = connections.provider_digest(self._provider, provider_connection_id)
        seen = connections.lock_by_provider_digest(tx, digest, lock=False)
        if seen is None:
            return False
        head = audit_sql.lock_head(tx, seen.family_id)
        match = connections.lock_by_provider_digest(tx, digest)
        if match is None or match.family_id != seen.family_id:
            return False
        if match.status in (ConnectionStatus.REVOKED, target):
            return True
        entries = self._signer().seal(head, [AuditEvent(
            actor=f"provider:{self._provider}", action=f"connection.consent_{target.value}",
            target_type="connection", target_id=str(match.id))])
        connections.mark_consent_ended(tx, match, status=target, reason=_REASONS[target],
                                       entries=entries)
        return True

    def find_waiting_run(self, tx: Executor, provider_connection_id: str, account_id: str,
                         request_id: str) -> str | RunAlreadyActive | None:
        """Claim the run deferred at :data:`WAITING_STEP` that waits on ``request_id``."""
        claim = claim_waiting_run(
            tx, digest=connections.provider_digest(self._provider, provider_connection_id),
            account_id=account_id, request_id=request_id, waiting_step=WAITING_STEP)
        if claim is None:
            return None
        return claim.run_id if claim.claimed else RunAlreadyActive(claim.run_id)

    def resume_run(self, run_id: str) -> None:
        """Schedule the claimed run's execution; a launch failure rolls the claim back.

        Raises
        ------
        ResumeUnavailableError
            The execution could not be started (503: the provider retries the delivery).
        """
        try:
            self._launcher().resume_waiting(run_id)
        except LaunchFailedError as error:
            raise ResumeUnavailableError(
                "The sync waiting on this event could not be resumed; retry later.") from error
