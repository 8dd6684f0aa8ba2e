"""The sync run a provider webhook may resume: claimed in the webhook's own transaction.

Only a run that waits with no execution active may be resumed: status ``deferred`` (the
runner gave up polling until ``resume_at``) at ``waiting_step``, with the reported request id
among that account's requests in its state. A ``running`` run already has an execution whose
poll step is retrying; resuming it would start a second one on the same run.

:func:`claim_waiting_run` moves the run to ``running`` under its row lock, so two webhooks
naming the same run (two accounts' requests finishing at once, or a delivery racing the
run's own retry) claim it once: the second waits for the first transaction and then finds the
run no longer deferred. ``resume_at`` is kept: it names the deferral the run resumes from
(the Step Functions launcher derives the execution name from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.db.port import Executor
from service.workflows.store import RunStatus


@dataclass(frozen=True, slots=True)
class RunClaim:
    """What the claim found: the run, and whether this call moved it out of ``deferred``."""

    run_id: str
    claimed: bool
    status: RunStatus
    resume_at: datetime | None


_CLAIM = """WITH found AS (
        SELECT r.id, r.status, r.resume_at
        FROM sync_runs r
        JOIN connections c ON c.id = r.connection_id
        JOIN families f ON f.id = c.family_id AND f.deleted_at IS NULL
        WHERE c.provider_digest = :digest AND c.status = 'active'
          AND r.status IN ('pending', 'running', 'deferred')
          AND (r.state -> 'chains' -> CAST(:account AS text) -> 'handles')
              @> jsonb_build_array(CAST(:request_id AS text))
        FOR UPDATE OF r),
    claimed AS (
        UPDATE sync_runs r SET status = 'running', updated_at = now()
        FROM found
        WHERE r.id = found.id AND found.status = 'deferred'
          AND EXISTS (SELECT 1 FROM sync_run_steps s
                      WHERE s.run_id = r.id AND s.name = :waiting_step
                        AND s.status = 'deferred')
        RETURNING r.id)
    SELECT found.id, found.status, found.resume_at,
           EXISTS (SELECT 1 FROM claimed WHERE claimed.id = found.id) AS claimed
    FROM found"""


def claim_waiting_run(
    ex: Executor, *, digest: str, account_id: str, request_id: str, waiting_step: str
) -> RunClaim | None:
    """Claim the deferred run waiting on ``request_id`` of the connection holding ``digest``.

    Returns ``None`` when no unfinished run of that connection knows the request, a
    :class:`RunClaim` with ``claimed=False`` when one does but is not waiting (``running``,
    or deferred at another step), and ``claimed=True`` when this call moved it to
    ``running``; the caller then schedules its execution before the transaction commits.
    """
    row = ex.fetch_one(_CLAIM, {"digest": digest, "account": account_id,
                                "request_id": request_id, "waiting_step": waiting_step})
    if row is None:
        return None
    claimed = bool(row["claimed"])
    return RunClaim(run_id=str(row["id"]), claimed=claimed,
                    status=RunStatus.RUNNING if claimed else RunStatus(row["status"]),
                    resume_at=row["resume_at"])
