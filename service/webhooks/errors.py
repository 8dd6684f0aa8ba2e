"""Why a webhook delivery was refused; each carries its HTTP status and problem slug."""

from __future__ import annotations


class WebhookRejectedError(Exception):
    """A delivery the service refuses; nothing was changed.

    Attributes
    ----------
    status
        The HTTP status answered (4xx: do not retry as is; 503: retry later).
    slug
        The problem type's slug (``https://problems.../<slug>``).
    detail
        A caller-safe explanation.
    """

    status = 400
    slug = "webhook-rejected"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class WebhookMalformedError(WebhookRejectedError):
    """Headers or body are missing or not in the provider's format."""

    status = 400
    slug = "webhook-malformed"


class JkuNotAllowedError(WebhookRejectedError):
    """The signature names a key set URL that is not on the allow-list (never fetched)."""

    status = 401
    slug = "webhook-jku-not-allowed"


class SignatureInvalidError(WebhookRejectedError):
    """``Tl-Signature`` does not verify against the provider's published keys."""

    status = 401
    slug = "webhook-signature-invalid"


class StaleWebhookError(WebhookRejectedError):
    """The signed timestamp is outside the accepted window (a replay or a badly skewed clock)."""

    status = 401
    slug = "webhook-stale"


class SigningKeysUnavailableError(WebhookRejectedError):
    """The provider's key set could not be fetched; the provider should retry later."""

    status = 503
    slug = "webhook-keys-unavailable"


class ResumeUnavailableError(WebhookRejectedError):
    """The waiting sync run could not be scheduled; nothing was recorded, retry later."""

    status = 503
    slug = "webhook-resume-unavailable"
