"""``POST /v1/webhooks/truelayer``: TrueLayer's signed event notifications (public route).

No bearer token: the ``Tl-Signature`` over the raw body is the only authentication, so the
body is read as bytes and never re-serialised before verification. Every verified delivery,
a duplicate included, answers 200 (TrueLayer's "webhook handled"; anything else is retried).
"""

from __future__ import annotations

import logging
from typing import Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict

from service.errors import problem, problem_type
from service.http import current_database, current_services, endpoint
from service.use_cases import webhooks as uc
from service.webhooks import WebhookRejectedError

bp = Blueprint("webhooks", __name__, url_prefix="/v1")
_log = logging.getLogger("service.webhooks")


class WebhookAck(BaseModel):
    """The acknowledgement of a verified delivery."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    status: Literal["processed", "duplicate"]


@endpoint(bp, "POST", "/webhooks/truelayer", response=WebhookAck, public=True,
          summary="Receive a TrueLayer webhook", tags=["webhooks"],
          responses={400: "Malformed delivery", 401: "Bad signature, unlisted jku or stale "
                     "timestamp", 503: "Signing keys unavailable; retry later"})
def truelayer_webhook() -> WebhookAck | Response:
    """Verify ``Tl-Signature`` (allow-listed ``jku``, fresh timestamp) and process the event
    once; a repeated ``event_id`` is acknowledged without being processed again."""
    services = current_services()
    try:
        delivery = uc.receive_truelayer_webhook(
            current_database(),
            services.webhook_verifier,
            services.webhook_events,
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=request.get_data(cache=False),
        )
    except WebhookRejectedError as error:
        _log.warning("webhook rejected", extra={"reason": error.slug, "status": error.status})
        headers = {"Retry-After": "30"} if error.status == 503 else None
        return problem(error.status, error.detail, type_=problem_type(error.slug),
                       headers=headers)
    _log.info("webhook received", extra={"event_type": delivery.event_type,
                                         "outcome": delivery.outcome})
    return WebhookAck(event_id=delivery.event_id,
                      status="duplicate" if delivery.duplicate else "processed")
