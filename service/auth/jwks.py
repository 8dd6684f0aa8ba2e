"""A JSON Web Key Set cache with key-rotation support and a refetch rate limit."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import jwt

JwksFetch = Callable[[], Mapping[str, Any]]


class UnknownSigningKeyError(LookupError):
    """No key with the token's ``kid`` exists, even after a (rate-limited) refetch."""


def url_fetcher(url: str, *, timeout: float = 3.0) -> JwksFetch:
    """A fetch function reading a JWKS document over HTTPS."""
    if not url.startswith("https://"):
        raise ValueError("JWKS must be fetched over https")

    def fetch() -> Mapping[str, Any]:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (https only)
            document: Mapping[str, Any] = json.loads(response.read())
        return document

    return fetch


class JwksCache:
    """Signing keys by ``kid``, fetched on first use and refreshed for unknown kids.

    Parameters
    ----------
    fetch
        Returns the JWKS document (``{"keys": [...]}``).
    min_refresh_interval
        At most one refetch per interval, so tokens with random kids cannot make us
        hammer the issuer.
    max_age
        Keys older than this are refetched on the next lookup (Cognito rotates rarely).
    clock
        Monotonic clock, injectable for tests.
    """

    def __init__(
        self,
        fetch: JwksFetch,
        *,
        min_refresh_interval: float = 60.0,
        max_age: float = 6 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0

    def get(self, kid: str) -> jwt.PyJWK:
        """The key with this ``kid``.

        Raises
        ------
        UnknownSigningKeyError
            The kid is unknown and a refetch is not allowed yet or did not reveal it.
        """
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._max_age
            key = None if stale else self._keys.get(kid)
            if key is not None:
                return key
            may_refetch = (
                self._fetched_at is None or now - self._fetched_at >= self._min_refresh_interval
            )
            if may_refetch or stale:
                try:
                    self._refresh(now)
                except (OSError, ValueError):
                    if not self._keys:
                        raise
                    # Issuer unreachable: keep the last good keys, retry after the interval.
                    self._fetched_at = now
            key = self._keys.get(kid)
            if key is None:
                raise UnknownSigningKeyError(kid)
            return key

    def _refresh(self, now: float) -> None:
        document = self._fetch()
        self.fetch_count += 1
        keys: dict[str, jwt.PyJWK] = {}
        for data in document.get("keys", []):
            if data.get("kty") != "RSA" or data.get("use", "sig") != "sig" or "kid" not in data:
                continue
            keys[data["kid"]] = jwt.PyJWK.from_dict(dict(data), algorithm="RS256")
        self._keys = keys
        self._fetched_at = now
