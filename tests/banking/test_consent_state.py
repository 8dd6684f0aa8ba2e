"""Consent-journey state: random, stored as a digest, single use, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.banking.consent_state import STATE_LIFETIME, issue_state, state_digest, state_matches

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_issued_state_is_random_and_stored_as_digest() -> None:
    a, b = issue_state(NOW), issue_state(NOW)
    assert a.value != b.value and len(a.value) >= 43
    assert a.digest == state_digest(a.value) and a.value not in a.digest
    assert a.expires_at == NOW + STATE_LIFETIME


def test_state_matches_only_once_and_only_in_time() -> None:
    s = issue_state(NOW)
    ok = {"digest": s.digest, "expires_at": s.expires_at}
    assert state_matches(s.value, **ok, used=False, now=NOW + timedelta(minutes=1))
    assert not state_matches(s.value, **ok, used=True, now=NOW)  # replayed callback
    assert not state_matches(s.value, **ok, used=False, now=s.expires_at)  # stale
    assert not state_matches(s.value + "x", **ok, used=False, now=NOW)  # forged
    assert not state_matches("", **ok, used=False, now=NOW)
    assert not state_matches("a" * 10_000, **ok, used=False, now=NOW)
