"""TrueLayer's webhook signing keys: fetched only from an allow-listed ``jku``, cached.

The ``jku`` comes from the (not yet verified) signature header, so it is attacker-controlled
until the signature checks out: a URL that is not exactly on the allow-list is refused before
any request is made (no server-side request forgery through a webhook). Fetched key sets are
kept for ``ttl`` seconds; a ``kid`` missing from a cached set triggers at most one refetch per
``min_refetch_interval`` (TrueLayer rotating its keys), never one per delivery.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from service.webhooks.errors import JkuNotAllowedError, SigningKeysUnavailableError

JwksDocumentFetch = Callable[[str], Mapping[str, Any]]
"""Fetches the JSON Web Key Set document at a URL (``{"keys": [...]}``); raises on failure."""

MAX_JWKS_BYTES = 64 * 1024


def https_jwks_fetch(
    *, connect_timeout: float = 2.0, read_timeout: float = 3.0
) -> JwksDocumentFetch:
    """A fetch over HTTP(S) with connect/read timeouts, no redirects and a size cap.

    Only allow-listed URLs ever reach it (:class:`SigningKeyCache` checks first).
    """
    import httpx  # noqa: PLC0415 - loaded on the first webhook, not at cold start

    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)

    def fetch(url: str) -> Mapping[str, Any]:
        response = httpx.get(url, timeout=timeout, follow_redirects=False,
                             headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("the key set document is too large")
        document: Mapping[str, Any] = response.json()
        return document

    return fetch


@dataclass
class _Entry:
    keys: dict[str, dict[str, str]]
    fetched_at: float
    attempted_at: float


class SigningKeyCache:
    """JWKs by ``(jku, kid)``, fetched from allow-listed URLs only.

    Parameters
    ----------
    allowlist
        The exact ``jku`` URLs trusted (``TRUELAYER_JKU_ALLOWLIST``).
    fetch
        Reads a key set document; :func:`https_jwks_fetch` by default.
    ttl
        Seconds a fetched key set is used before it is fetched again.
    min_refetch_interval
        Least seconds between two fetches of one URL prompted by an unknown ``kid``.
    clock
        Monotonic clock, injectable for tests.
    """

    def __init__(
        self,
        allowlist: Iterable[str],
        *,
        fetch: JwksDocumentFetch | None = None,
        ttl: float = 900.0,
        min_refetch_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowlist = frozenset(url.strip() for url in allowlist if url.strip())
        self._fetch = fetch or https_jwks_fetch()
        self._ttl = ttl
        self._min_refetch_interval = min_refetch_interval
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.fetch_count = 0

    def ensure_allowed(self, jku: str | None) -> str:
        """The ``jku`` if it is exactly on the allow-list.

        Raises
        ------
        JkuNotAllowedError
            Missing or not allow-listed (nothing is fetched).
        """
        if not jku or jku not in self.allowlist:
            raise JkuNotAllowedError(
                "The signature's key set URL (jku) is not one this service trusts."
            )
        return jku

    def key_set(self, jku: str | None, kid: str) -> dict[str, list[dict[str, str]]]:
        """A JWKS document (``{"keys": [...]}``) holding ``kid`` when the provider has it.

        Raises
        ------
        JkuNotAllowedError
            ``jku`` is not allow-listed.
        SigningKeysUnavailableError
            The key set could not be fetched and none is cached.
        """
        url = self.ensure_allowed(jku)
        with self._lock:
            now = self._clock()
            entry = self._entries.get(url)
            if entry is None:
                entry = self._refresh(url, now, None)
            elif (
                now - entry.fetched_at >= self._ttl or kid not in entry.keys
            ) and now - entry.attempted_at >= self._min_refetch_interval:
                entry = self._refresh(url, now, entry)
            return {"keys": list(entry.keys.values())}

    def _refresh(self, url: str, now: float, previous: _Entry | None) -> _Entry:
        try:
            document = self._fetch(url)
            keys = {
                str(key["kid"]): {str(k): str(v) for k, v in key.items()}
                for key in document.get("keys", [])
                if isinstance(key, Mapping) and key.get("kid")
            }
        except Exception as error:  # network, HTTP status, JSON or shape: all "unavailable"
            if previous is None:
                raise SigningKeysUnavailableError(
                    "The provider's signing keys could not be fetched; retry later."
                ) from error
            # Keep the last good keys; the next attempt waits for the refetch interval.
            previous.attempted_at = now
            return previous
        self.fetch_count += 1
        entry = _Entry(keys=keys, fetched_at=now, attempted_at=now)
        self._entries[url] = entry
        return entry
