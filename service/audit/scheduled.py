"""The scheduled anchoring job: a Lambda handler the schedule invokes every N minutes.

In AWS a schedule (EventBridge Scheduler, ``rate(AUDIT_ANCHOR_INTERVAL_MINUTES minutes)``)
invokes :func:`handler`; it copies every chain's last link to the anchor bucket. The
services are built once per container, at the first invocation.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from service.bootstrap import Services
from service.settings import Settings

_lock = threading.Lock()
_services: Services | None = None


def use_services(services: Services | None) -> None:
    """Inject the services (tests) or drop them."""
    global _services  # noqa: PLW0603 - one container-wide instance, like the API's app
    with _lock:
        _services = services


def _current() -> Services:
    global _services  # noqa: PLW0603
    with _lock:
        if _services is None:
            settings = Settings.from_env()
            _services = Services(settings)
        return _services


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Take one anchor; answer where it went (logged, never hashes)."""
    from service.audit.anchors import anchor_summary, take_anchor  # noqa: PLC0415

    services = _current()
    anchor, location = take_anchor(services.database, services.anchor_store)
    summary = {**anchor_summary(anchor), "location": location}
    logging.getLogger("service.audit").info("audit anchor taken", extra=summary)
    return summary
