"""How long a processed webhook's event id is kept, and why that is safe.

The event-id inbox (:mod:`service.webhooks.inbox`) only has to remember an id while a
delivery carrying it could still pass verification: the signed timestamp must be at most
the verifier's ``max_age`` old and at most ``max_future_skew`` ahead
(:class:`~service.webhooks.verification.WebhookVerifier`). A row received at ``R`` names a
delivery signed no later than ``R + max_future_skew``; once ``R`` is older than
:data:`EVENT_ID_RETENTION`, any replay of it is refused as stale before the inbox is asked,
provided the retention exceeds ``max_age + max_future_skew``. :func:`check_window` enforces
that, against the stricter :data:`DELETE_GUARD` (the database's own floor, so not even the
app role can delete an id a replay could still use): the verifier refuses to be built with a
window that would contradict the pruning, and the pruning refuses to run against one.
"""

from __future__ import annotations

from datetime import timedelta

EVENT_ID_RETENTION = timedelta(days=7)
"""Event ids are kept this long after receipt: far beyond the replay window (minutes), so a
week of deliveries stays visible for diagnosis, then the retention action deletes them."""

DELETE_GUARD = timedelta(days=1)
"""The database refuses to delete an id received more recently than this, whoever asks
(migration ``0011_webhook_events_delete_guard``, the same interval): the retention may not be
shorter, and a verification window may not reach it."""

DEFAULT_MAX_AGE = timedelta(minutes=5)
"""The default oldest signed timestamp accepted (``Settings.webhook_max_age_seconds``)."""

DEFAULT_MAX_FUTURE_SKEW = timedelta(minutes=1)
"""How far ahead of our clock a signed timestamp may be (the provider's clock running fast)."""


def check_window(max_age: timedelta, max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW) -> None:
    """Refuse a verification window that a pruned event id could still be replayed within.

    Raises
    ------
    ValueError
        ``max_age`` or ``max_future_skew`` is negative, or together they reach
        :data:`DELETE_GUARD` (and so could reach :data:`EVENT_ID_RETENTION`).
    """
    if max_age <= timedelta(0) or max_future_skew < timedelta(0):
        raise ValueError("the webhook window must be positive (max_age > 0, skew >= 0)")
    if max_age + max_future_skew >= DELETE_GUARD:
        raise ValueError(
            f"a webhook window of {max_age} (+{max_future_skew} skew) reaches the "
            f"{DELETE_GUARD} an event id is always kept (retention {EVENT_ID_RETENTION}): "
            "a pruned event could be replayed"
        )
