"""The data access log: who read which family's data, as structured log lines.

Reads are not in the hash chain. Appending to the chain means locking the family's head
row and a second statement inside a transaction, i.e. three extra Data API calls per
read and every reader of a family queued behind every other. Writes stay in the chain
(:mod:`service.audit.chain`), in the statement that makes the change. Each read of
family data writes one JSON line to the ``service.data_access`` logger, which Lambda
sends to the function's CloudWatch log group (KMS-encrypted, retention set by the
infrastructure). Lines name users by their opaque id and never hold amounts, tokens,
search text or emails.
"""

from __future__ import annotations

import logging
from uuid import UUID

DATA_ACCESS_LOGGER = "service.data_access"


def record_read(
    *, family_id: UUID, user_id: UUID, action: str, target: tuple[str, UUID | str | None]
) -> None:
    """Log that ``user_id`` read ``target`` of ``family_id`` (e.g. ``transactions.list``)."""
    target_type, target_id = target
    logging.getLogger(DATA_ACCESS_LOGGER).info(
        "data access",
        extra={"family_id": str(family_id), "actor": f"user:{user_id}", "action": action,
               "target_type": target_type,
               "target_id": None if target_id is None else str(target_id)},
    )
