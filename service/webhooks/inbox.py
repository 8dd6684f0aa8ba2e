"""Exactly-once processing: the event id is recorded in the handler's own transaction.

``INSERT ... ON CONFLICT DO NOTHING`` on the primary key ``(provider, event_id)`` decides who
processes an event. A concurrent duplicate delivery blocks on that key until the first
transaction ends: after a commit its insert affects no row (a duplicate, acknowledged without
running the handler again); after a rollback (the handler failed) it inserts and processes.
Only the id, the type and the timestamps are kept, no payload: provider connection ids live in
the envelope-encrypted store only.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.db.port import Database
from service.webhooks.events import WebhookEvent, WebhookEvents

_RECORD = """
INSERT INTO webhook_events (provider, event_id, event_type, sent_at)
VALUES (:provider, :event_id, :event_type, :sent_at)
ON CONFLICT (provider, event_id) DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one verified delivery."""

    event_id: str
    event_type: str
    duplicate: bool
    outcome: str


def receive(
    database: Database, event: WebhookEvent, events: WebhookEvents, *, provider: str
) -> Delivery:
    """Record the event id and run its handler in one transaction, once per event id."""
    with database.transaction() as tx:
        inserted = tx.execute(_RECORD, {
            "provider": provider,
            "event_id": event.event_id,
            "event_type": event.type,
            "sent_at": event.sent_at,
        })
        if inserted == 0:
            return Delivery(event.event_id, event.type, duplicate=True, outcome="duplicate")
        outcome = events.dispatch(tx, event)
    return Delivery(event.event_id, event.type, duplicate=False, outcome=outcome)
