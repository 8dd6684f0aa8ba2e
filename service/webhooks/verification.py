"""``Tl-Signature`` verification of TrueLayer webhooks with TrueLayer's own library.

TrueLayer signs each delivery with a detached JWS (ES512, ``tl_version`` 2) over the method,
path, the headers named in ``tl_headers`` and the raw body, and puts the URL of its key set in
the JWS header's ``jku``. We check, in this order: the header parses; the ``jku`` is exactly on
the allow-list (only then is it fetched, see :mod:`service.webhooks.keys`); the signature
verifies with ``truelayer_signing.verify_with_jwks`` and covers ``X-TL-Webhook-Timestamp``;
that signed timestamp is within the accepted window (an old, captured delivery replayed later
is refused even before the event-id dedupe sees it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from service.webhooks.errors import (
    SignatureInvalidError,
    StaleWebhookError,
    WebhookMalformedError,
)
from service.webhooks.keys import SigningKeyCache
from service.webhooks.retention import DEFAULT_MAX_AGE, DEFAULT_MAX_FUTURE_SKEW, check_window

SIGNATURE_HEADER = "Tl-Signature"
TIMESTAMP_HEADER = "X-TL-Webhook-Timestamp"
TRUELAYER_JKU_LIVE = "https://webhooks.truelayer.com/.well-known/jwks"
"""The ``jku`` of TrueLayer's live webhooks (TrueLayer's signing-library examples)."""
TRUELAYER_JKU_SANDBOX = "https://webhooks.truelayer-sandbox.com/.well-known/jwks"
"""The ``jku`` of TrueLayer's sandbox environment's webhooks."""


class WebhookVerifier:
    """Verifies one delivery; raises a :class:`~service.webhooks.errors.WebhookRejectedError`.

    Parameters
    ----------
    keys
        The allow-listed, cached key sets.
    max_age
        How old a signed timestamp may be (deliveries are signed when sent).
    max_future_skew
        How far ahead of our clock a timestamp may be (the provider's clock running fast).
    clock
        Current UTC time, injectable for tests.

    Raises
    ------
    ValueError
        The window reaches the event-id retention, so a replay of a pruned event id would
        pass (:func:`~service.webhooks.retention.check_window`).
    """

    def __init__(
        self,
        keys: SigningKeyCache,
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        check_window(max_age, max_future_skew)
        self.keys = keys
        self._max_age = max_age
        self._max_future_skew = max_future_skew
        self._clock = clock or (lambda: datetime.now(UTC))

    def verify(
        self, *, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> datetime:
        """Check a delivery and return its signed timestamp.

        Raises
        ------
        WebhookMalformedError
            The body is not UTF-8 or the timestamp is not ISO 8601.
        SignatureInvalidError
            No signature, an unparsable one, an unknown key, or one that does not verify
            (including a signature that does not cover the timestamp header).
        JkuNotAllowedError
            The signature names a key set URL that is not allow-listed.
        SigningKeysUnavailableError
            The allow-listed key set could not be fetched (503: the provider retries).
        StaleWebhookError
            The signed timestamp is outside the accepted window.
        """
        from truelayer_signing import (  # noqa: PLC0415 - loaded with the first webhook
            HttpMethod,
            extract_jws_header,
            verify_with_jwks,
        )
        from truelayer_signing.errors import TlSigningException  # noqa: PLC0415

        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise SignatureInvalidError(f"The delivery carries no {SIGNATURE_HEADER} header.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookMalformedError("The webhook body is not UTF-8 text.") from None
        try:
            jws_header = extract_jws_header(signature)
        except TlSigningException:
            raise SignatureInvalidError(f"{SIGNATURE_HEADER} is not a valid signature.") from None
        key_set = self.keys.key_set(jws_header.jku, jws_header.kid)
        try:
            verify_with_jwks(key_set, jws_header).set_method(
                HttpMethod(method.upper())
            ).set_path(path).add_headers(dict(headers)).add_required_header(
                TIMESTAMP_HEADER
            ).set_body(text).verify(signature)
        except (TlSigningException, ValueError, KeyError):
            raise SignatureInvalidError(
                f"{SIGNATURE_HEADER} does not verify against the provider's published keys."
            ) from None
        return self._check_timestamp(_header(headers, TIMESTAMP_HEADER))

    def _check_timestamp(self, value: str | None) -> datetime:
        try:
            sent_at = datetime.fromisoformat((value or "").strip())
        except ValueError:
            raise WebhookMalformedError(
                f"{TIMESTAMP_HEADER} is not an ISO 8601 date-time."
            ) from None
        if sent_at.tzinfo is None:
            raise WebhookMalformedError(f"{TIMESTAMP_HEADER} must carry a time zone.")
        now = self._clock()
        if sent_at < now - self._max_age or sent_at > now + self._max_future_skew:
            raise StaleWebhookError(
                f"The delivery was signed at {sent_at.isoformat()}, outside the accepted "
                f"window of {int(self._max_age.total_seconds())} s; it is not processed."
            )
        return sent_at


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)
