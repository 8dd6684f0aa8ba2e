"""Receive a provider webhook: verify, parse, then process once (no user, no tenancy input).

The caller is the provider, authenticated by its signature alone; the handlers the event
reaches find the family through the connection the event names.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.db.port import Database
from service.webhooks import Delivery, WebhookEvent, WebhookEvents, WebhookVerifier, receive

TRUELAYER = "truelayer"


def receive_truelayer_webhook(
    database: Database,
    verifier: WebhookVerifier,
    events: WebhookEvents,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Delivery:
    """Verify a TrueLayer delivery and process its event at most once.

    Raises
    ------
    WebhookRejectedError
        Bad or missing signature, unlisted ``jku``, stale timestamp or malformed event;
        nothing is recorded.
    """
    sent_at = verifier.verify(method=method, path=path, headers=headers, body=body)
    event = WebhookEvent.parse(body, sent_at=sent_at)
    return receive(database, event, events, provider=TRUELAYER)
