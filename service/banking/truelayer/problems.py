"""TrueLayer Data API v3 Problem Details → normalised provider errors.

Source: https://docs.truelayer.com/docs/data-v3-errors — v3 error responses are RFC 9457/7807
Problem Details whose ``type`` and ``title`` identify the error, with a ``trace_id``:

======  ======================  ==========================================================
status  title                   normalised as
======  ======================  ==========================================================
400     Invalid Parameters      ProviderRejectedError (our request is wrong: do not retry)
400     Invalid State           ReauthRequiredError (connection no longer authorised)
401     Unauthenticated         token refreshed once by the HTTP layer, then ProviderRejected
403     Forbidden               ReauthRequiredError (revoked, or the SCA window expired)
404     Not Found               ProviderRejectedError (stale Connection-Id or account id)
429     Rate Limit Exceeded     RateLimitedError (``Retry-After`` → ``retry_at``)
502     Feature Not Supported   UnsupportedError (documented: don't retry)
502     Provider Error          ProviderUnavailableError (documented: retry)
500     Unknown Error           ProviderUnavailableError (documented: retry)
======  ======================  ==========================================================

Any other 5xx (or a body that is not a problem document, e.g. from a proxy) is treated by its
status alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from service.banking.errors import (
    ProviderError,
    ProviderRejectedError,
    ProviderUnavailableError,
    RateLimitedError,
    ReauthRequiredError,
    UnsupportedError,
)


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After`` (delta-seconds or HTTP-date) as an absolute UTC time, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.astimezone(UTC), now)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_from_response(response: httpx.Response, now: datetime) -> ProviderError:
    """The normalised error for a 4xx/5xx answer from the Data API or the auth server."""
    problem = _problem(response)
    status = response.status_code
    title = str(problem.get("title", "")).strip().lower()
    trace_id = problem.get("trace_id") or response.headers.get("tl-trace-id")
    trace = str(trace_id) if trace_id else None
    detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
    if status == 429:
        retry_at = parse_retry_after(response.headers.get("retry-after"), now)
        return RateLimitedError(
            f"rate limited by the provider: {detail}", retry_at=retry_at, trace_id=trace
        )
    if status == 502 and title == "feature not supported":
        return UnsupportedError(f"not supported by the bank: {detail}", trace_id=trace)
    if status >= 500:
        return ProviderUnavailableError(
            f"provider unavailable ({status}): {detail}", trace_id=trace
        )
    if status == 403 or (status == 400 and title == "invalid state"):
        return ReauthRequiredError(f"the user must reconnect: {detail}", trace_id=trace)
    return ProviderRejectedError(
        f"provider rejected the request ({status}): {detail}", trace_id=trace
    )
