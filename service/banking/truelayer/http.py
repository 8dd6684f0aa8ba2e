"""HTTP transport of the TrueLayer adapter: client-credentials token, headers, retries.

* Token: ``POST {auth}/connect/token`` with ``grant_type=client_credentials`` and the ``data``
  scope, cached until shortly before ``expires_in`` runs out and refreshed once on a 401
  (https://docs.truelayer.com/docs/enable-your-users-to-connect-their-bank-account).
* Every Data API v3 call on a connection carries the ``Connection-Id`` header, and the end
  user's IP in ``Tl-User-IP`` when the user is present, which lifts unattended rate limits
  (https://docs.truelayer.com/docs/get-all-user-accounts,
  https://docs.truelayer.com/docs/data-v3-errors: "429 Rate Limit Exceeded — include the
  Tl-User-IP header, or try again later").
* Timeouts on every call; bounded retries with full-jitter exponential backoff on 5xx (except
  the documented non-retryable "Feature Not Supported"), timeouts and connection errors, and on
  429 after its ``Retry-After`` hint when that hint is short enough to wait for here.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from service.banking.errors import (
    ProviderError,
    ProviderRejectedError,
    ProviderUnavailableError,
    RateLimitedError,
)
from service.banking.truelayer.config import TrueLayerConfig
from service.banking.truelayer.problems import error_from_response

USER_IP_HEADER = "Tl-User-IP"
CONNECTION_ID_HEADER = "Connection-Id"
# Refresh the token this long before it expires so a call never races its expiry.
_TOKEN_MARGIN = timedelta(seconds=60)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: status and the JSON body (numbers parsed as ``Decimal``)."""

    status: int
    body: Any


class TrueLayerHttp:
    """Sends Data API v3 requests with a client-credentials token.

    Parameters
    ----------
    config
        Hosts, credentials, timeouts and retry bounds.
    client
        The ``httpx.Client`` to send through (injected so tests point it at the sandbox bank and
        deployments share one connection pool per container).
    clock, sleep, rng
        Injected so tests neither wait nor depend on chance.
    """

    def __init__(
        self,
        config: TrueLayerConfig,
        *,
        client: httpx.Client,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._client = client
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        self._token: tuple[str, datetime] | None = None
        self._token_lock = threading.Lock()

    # -- token -------------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, datetime]:
        reply = self._send(
            "POST",
            f"{self._config.auth_url}/connect/token",
            headers={},
            data={
                "grant_type": "client_credentials",
                "client_id": self._config.client_id,
                "client_secret": self._config.client_secret,
                "scope": "data",
            },
        )
        body = reply.body
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ProviderRejectedError("token endpoint answered without an access_token")
        expires_in = body.get("expires_in", 3600)
        if not isinstance(expires_in, int | Decimal) or expires_in <= 0:
            raise ProviderRejectedError("token endpoint answered an invalid expires_in")
        return body["access_token"], self._clock() + timedelta(seconds=int(expires_in))

    def access_token(self, *, force_refresh: bool = False) -> str:
        """A valid client-credentials token (cached per process)."""
        with self._token_lock:
            token = self._token
            if force_refresh or token is None or self._clock() >= token[1] - _TOKEN_MARGIN:
                token = self._token = self._fetch_token()
            return token[0]

    # -- requests ----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        connection_id: str | None = None,
        user_ip: str | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> Reply:
        """Call the Data API; raises only :mod:`service.banking.errors` types."""
        refreshed = False
        while True:
            headers = {"Authorization": f"Bearer {self.access_token(force_refresh=refreshed)}"}
            if connection_id is not None:
                headers[CONNECTION_ID_HEADER] = connection_id
            if user_ip:
                headers[USER_IP_HEADER] = user_ip
            try:
                return self._send(
                    method,
                    f"{self._config.api_url}{path}",
                    headers=headers,
                    json_body=json_body,
                )
            except _UnauthenticatedError:
                if refreshed:
                    raise ProviderRejectedError(
                        "the provider refused a freshly issued token (check the client credentials)"
                    ) from None
                refreshed = True

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**(attempt-1))]."""
        cap = min(self._config.max_backoff, self._config.base_backoff * 2 ** (attempt - 1))
        return self._rng.uniform(0, cap)

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        json_body: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Reply:
        last: ProviderError | None = None
        for attempt in range(1, self._config.max_attempts + 1):
            if attempt > 1 and last is not None:
                self._sleep(self._wait_before_retry(last, attempt - 1))
            try:
                response = self._client.request(
                    method, url, headers=headers, json=json_body, data=data, timeout=self._timeout
                )
            except httpx.TimeoutException:
                last = ProviderUnavailableError(f"{method} {_path(url)} timed out")
                continue
            except httpx.TransportError as exc:
                last = ProviderUnavailableError(
                    f"{method} {_path(url)} failed: {type(exc).__name__}"
                )
                continue
            if response.status_code < 400:
                return Reply(response.status_code, _json(response, method, url))
            if response.status_code == 401 and "Authorization" in headers:
                raise _UnauthenticatedError
            error = error_from_response(response, self._clock())
            if not error.retryable:
                raise error
            if isinstance(error, RateLimitedError) and error.retry_at is not None:
                wait = (error.retry_at - self._clock()).total_seconds()
                if wait > self._config.max_retry_wait or attempt == self._config.max_attempts:
                    raise error
            last = error
        assert last is not None
        raise last

    def _wait_before_retry(self, error: ProviderError, attempt: int) -> float:
        backoff = self._backoff(attempt)
        if isinstance(error, RateLimitedError) and error.retry_at is not None:
            return max(backoff, (error.retry_at - self._clock()).total_seconds())
        return backoff


class _UnauthenticatedError(Exception):
    """Internal signal: the Data API answered 401 (token expired or revoked)."""


def _path(url: str) -> str:
    return httpx.URL(url).path


def _json(response: httpx.Response, method: str, url: str) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise ProviderRejectedError(
            f"{method} {_path(url)} answered a body that is not JSON"
        ) from None
