"""The key-set cache: allow-list first, TTL, bounded refetch for unknown kids, outages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from service.settings import Settings, SettingsError
from service.webhooks import (
    TRUELAYER_JKU_LIVE,
    TRUELAYER_JKU_SANDBOX,
    JkuNotAllowedError,
    SigningKeyCache,
    SigningKeysUnavailableError,
)

URL = "https://keys.example.test/.well-known/jwks"


class Fetch:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.kids = ["k1"]
        self.down = False

    def __call__(self, url: str) -> Mapping[str, Any]:
        self.calls.append(url)
        if self.down:
            raise OSError("unreachable")
        return {"keys": [{"kid": kid, "kty": "EC"} for kid in self.kids]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cache(fetch: Fetch, clock: Clock) -> SigningKeyCache:
    return SigningKeyCache([URL], fetch=fetch, ttl=900, min_refetch_interval=30, clock=clock)


def test_unlisted_or_missing_jku_is_refused_before_any_fetch() -> None:
    fetch = Fetch()
    cache = _cache(fetch, Clock())
    for jku in (None, "", URL + "?x", "https://keys.example.test.evil/.well-known/jwks"):
        with pytest.raises(JkuNotAllowedError):
            cache.key_set(jku, "k1")
    assert fetch.calls == []


def test_key_sets_are_cached_for_the_ttl() -> None:
    fetch, clock = Fetch(), Clock()
    cache = _cache(fetch, clock)
    assert [k["kid"] for k in cache.key_set(URL, "k1")["keys"]] == ["k1"]
    clock.now += 899
    cache.key_set(URL, "k1")
    assert len(fetch.calls) == 1
    clock.now += 1
    cache.key_set(URL, "k1")
    assert len(fetch.calls) == 2


def test_an_unknown_kid_refetches_at_most_once_per_interval() -> None:
    fetch, clock = Fetch(), Clock()
    cache = _cache(fetch, clock)
    cache.key_set(URL, "k1")
    clock.now += 31
    fetch.kids = ["k1", "k2"]  # the provider rotated in a new key
    assert {k["kid"] for k in cache.key_set(URL, "k2")["keys"]} == {"k1", "k2"}
    for _ in range(5):  # random kids cannot make us hammer the provider
        cache.key_set(URL, "nope")
    assert len(fetch.calls) == 2


def test_an_outage_keeps_the_last_good_keys_and_fails_only_without_any() -> None:
    fetch, clock = Fetch(), Clock()
    cache = _cache(fetch, clock)
    cache.key_set(URL, "k1")
    fetch.down = True
    clock.now += 1000
    assert cache.key_set(URL, "k1")["keys"]
    fresh = _cache(fetch, clock)
    with pytest.raises(SigningKeysUnavailableError):
        fresh.key_set(URL, "k1")


def test_lambda_refuses_a_non_https_jku() -> None:
    base = {"SERVICE_RUNTIME": "lambda", "DEV_ISSUER": "false",
            **{name: "x" for name in ("DB_CLUSTER_ARN", "DB_SECRET_ARN", "TOKEN_KMS_KEY_ARN",
                                      "FAMILY_KEYS_TABLE_NAME", "COGNITO_USER_POOL_ID",
                                      "COGNITO_CLIENT_ID", "COGNITO_REGION",
                                      "AUDIT_KEY_SECRET_ARN", "AUDIT_ANCHOR_BUCKET")}}
    ok = Settings.from_env({**base, "TRUELAYER_JKU_ALLOWLIST":
                            f"{TRUELAYER_JKU_SANDBOX}, {TRUELAYER_JKU_LIVE}"})
    assert ok.truelayer_jku_allowlist == (TRUELAYER_JKU_SANDBOX, TRUELAYER_JKU_LIVE)
    with pytest.raises(SettingsError, match="https"):
        Settings.from_env({**base, "TRUELAYER_JKU_ALLOWLIST":
                           "http://127.0.0.1:8001/.well-known/jwks"})


def test_lambda_refuses_the_local_sandbox_bank() -> None:
    base = {"SERVICE_RUNTIME": "lambda", "DEV_ISSUER": "false",
            **{name: "x" for name in ("DB_CLUSTER_ARN", "DB_SECRET_ARN", "TOKEN_KMS_KEY_ARN",
                                      "FAMILY_KEYS_TABLE_NAME", "COGNITO_USER_POOL_ID",
                                      "COGNITO_CLIENT_ID", "COGNITO_REGION",
                                      "AUDIT_KEY_SECRET_ARN", "AUDIT_ANCHOR_BUCKET")}}
    with pytest.raises(SettingsError, match="BANK_BASE_URL"):
        Settings.from_env({**base, "BANK_BASE_URL": "http://127.0.0.1:5001"})
    assert Settings.from_env({"BANK_BASE_URL": "http://127.0.0.1:5001"}).bank_base_url
