"""The sandbox bank's webhooks, signed as TrueLayer signs its own (tests and laptops only).

:class:`WebhookSigner` holds the bank's own ES512 key (P-521, generated per process) and signs
each delivery with ``truelayer_signing`` exactly as TrueLayer does: a detached JWS over the
method, path, ``X-TL-Webhook-Timestamp`` and the raw body, with the bank's key set URL in
the ``jku``. The bank serves that key set at ``/.well-known/jwks``; only a local
``TRUELAYER_JKU_ALLOWLIST`` lists it, so a deployed stage never trusts it.

:class:`WebhookSender` delivers to a configured URL when switched on (``bank.webhooks``), e.g.
when an asynchronous transactions request completes. Tests also use :meth:`WebhookSigner.sign`
directly to build forged, replayed or duplicated deliveries.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

JWKS_PATH = "/.well-known/jwks"
TIMESTAMP_HEADER = "X-TL-Webhook-Timestamp"
SIGNATURE_HEADER = "Tl-Signature"


def _b64url(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(66, "big")).rstrip(b"=").decode()


@dataclass(frozen=True)
class SignedDelivery:
    """A webhook ready to send: where, headers and the exact body bytes."""

    path: str
    headers: dict[str, str]
    body: bytes


class WebhookSigner:
    """The bank's signing key and its public key set.

    Parameters
    ----------
    jku
        Where the bank serves :meth:`jwks` (set by the server once it knows its port).
    """

    def __init__(self, *, jku: str = "http://127.0.0.1" + JWKS_PATH) -> None:
        self._key = ec.generate_private_key(ec.SECP521R1())
        self.kid = f"sandbox-{uuid.uuid4().hex[:12]}"
        self.jku = jku
        self._pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public key set (what ``jku`` serves): one P-521 key, no private part."""
        numbers = self._key.public_key().public_numbers()
        return {"keys": [{
            "kty": "EC", "crv": "P-521", "alg": "ES512", "use": "sig", "kid": self.kid,
            "x": _b64url(numbers.x), "y": _b64url(numbers.y),
        }]}

    def sign(
        self,
        url_or_path: str,
        event: dict[str, Any],
        *,
        sent_at: datetime | None = None,
        jku: str | None = None,
    ) -> SignedDelivery:
        """Sign ``event`` for a POST to ``url_or_path`` (its path is what is signed)."""
        from truelayer_signing import HttpMethod, sign_with_pem  # noqa: PLC0415

        path = urlsplit(url_or_path).path or "/"
        body = json.dumps(event, separators=(",", ":"))
        timestamp = (sent_at or datetime.now(UTC)).replace(microsecond=0).isoformat()
        timestamp = timestamp.replace("+00:00", "Z")
        signature = (
            sign_with_pem(self.kid, self._pem)
            .set_method(HttpMethod.POST)
            .set_path(path)
            .add_header(TIMESTAMP_HEADER, timestamp)
            .set_body(body)
            .set_jku(jku or self.jku)
            .sign()
        )
        return SignedDelivery(
            path=path,
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature,
            },
            body=body.encode(),
        )


Post = Callable[[str, dict[str, str], bytes], int]
"""Sends one delivery (``url, headers, body -> status``)."""


def _httpx_post(url: str, headers: dict[str, str], body: bytes) -> int:
    import httpx  # noqa: PLC0415

    return httpx.post(url, headers=headers, content=body, timeout=5.0).status_code


@dataclass
class WebhookSender:
    """Delivers signed events to ``url`` when ``enabled`` (off by default)."""

    signer: WebhookSigner
    url: str | None = None
    post: Post = _httpx_post
    sent: list[tuple[dict[str, Any], int | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def enabled(self) -> bool:
        """Whether deliveries are sent (a URL is configured)."""
        return bool(self.url)

    def event(self, event_type: str, **fields: str) -> dict[str, Any]:
        """A new event of ``event_type`` with a fresh ``event_id``."""
        return {"type": event_type, "event_version": 1, "event_id": str(uuid.uuid4()), **fields}

    def send(self, event: dict[str, Any]) -> int | None:
        """Sign and deliver ``event`` (``None`` when switched off or the receiver is down)."""
        if not self.url:
            return None
        delivery = self.signer.sign(self.url, event)
        try:
            status: int | None = self.post(self.url, delivery.headers, delivery.body)
        except Exception:  # the receiver's failure must never break the bank's own answer
            status = None
        with self._lock:
            self.sent.append((event, status))
        return status
