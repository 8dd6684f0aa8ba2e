"""Provider webhooks: verify the signature, refuse replays, dispatch each event once.

* :mod:`~service.webhooks.keys` — TrueLayer's signing keys, fetched only from an
  allow-listed ``jku`` and cached with a TTL;
* :mod:`~service.webhooks.verification` — ``Tl-Signature`` (the ``truelayer-signing``
  library) and the timestamp window;
* :mod:`~service.webhooks.events` — the parsed event and the :class:`WebhookEvents` port
  (one handler per event type);
* :mod:`~service.webhooks.inbox` — exactly-once processing through the ``webhook_events``
  table (event-id dedupe in the same transaction as the handler's writes).
"""

from __future__ import annotations

from service.webhooks.errors import (
    JkuNotAllowedError,
    SignatureInvalidError,
    SigningKeysUnavailableError,
    StaleWebhookError,
    WebhookMalformedError,
    WebhookRejectedError,
)
from service.webhooks.events import (
    ConsentChangeHandler,
    TransactionsReadyHandler,
    WebhookEvent,
    WebhookEvents,
)
from service.webhooks.inbox import Delivery, receive
from service.webhooks.keys import JwksDocumentFetch, SigningKeyCache, https_jwks_fetch
from service.webhooks.verification import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TRUELAYER_JKU_LIVE,
    TRUELAYER_JKU_SANDBOX,
    WebhookVerifier,
)

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TRUELAYER_JKU_LIVE",
    "TRUELAYER_JKU_SANDBOX",
    "ConsentChangeHandler",
    "Delivery",
    "JkuNotAllowedError",
    "JwksDocumentFetch",
    "SignatureInvalidError",
    "SigningKeyCache",
    "SigningKeysUnavailableError",
    "StaleWebhookError",
    "TransactionsReadyHandler",
    "WebhookEvent",
    "WebhookEvents",
    "WebhookMalformedError",
    "WebhookRejectedError",
    "WebhookVerifier",
    "https_jwks_fetch",
    "receive",
]
