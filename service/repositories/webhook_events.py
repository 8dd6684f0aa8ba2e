"""The processed-webhook inbox's maintenance: deleting event ids past their retention.

Recording ids is :mod:`service.webhooks.inbox` (in the handler's own transaction); this is
only the pruning, in bounded batches, oldest first, through the ``received_at`` index.
"""

from __future__ import annotations

from datetime import datetime

from service.db.port import Executor

_PRUNE = """
WITH gone AS (
    DELETE FROM webhook_events WHERE (provider, event_id) IN (
        SELECT provider, event_id FROM webhook_events
        WHERE received_at < :cutoff
        ORDER BY received_at
        LIMIT :limit)
    RETURNING 1)
SELECT count(*) AS n FROM gone
"""


def prune_received_before(ex: Executor, cutoff: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` event ids received before ``cutoff``; how many were deleted.

    Idempotent; a concurrent prune waits on rows the other one is deleting, then finds them
    gone. (No ``FOR UPDATE``: that would need the UPDATE privilege the app role lacks.)
    """
    row = ex.fetch_one(_PRUNE, {"cutoff": cutoff, "limit": limit})
    return 0 if row is None else int(row["n"])
