"""The TrueLayer v3 adapter against the sandbox bank over real HTTP, every call and quirk."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from devtools.sandbox_bank.households import household_until
from service.banking import (
    DateWindow,
    ProviderConnection,
    ProviderRejectedError,
    ProviderUnavailableError,
    RateLimitedError,
    ReauthRequiredError,
    TransactionsNotReadyError,
    TransactionState,
)
from service.banking.truelayer import CONNECTION_ID_HEADER, USER_IP_HEADER, TrueLayerProvider
from tests.banking.sandbox_env import FIXED_NOW, REDIRECT_URI, SandboxEnv, pence, truth

WINDOW = DateWindow(date(2026, 8, 1), date(2026, 11, 20))


def _fetch_all(
    provider: TrueLayerProvider, conn: ProviderConnection, account_id: str, window: DateWindow
) -> list:
    """Request, poll until ready, follow cursors."""
    txns = []
    cursor = None
    while True:
        handle = provider.request_transactions(
            conn, account_id, window, cursor=cursor, user_ip=None
        )
        with pytest.raises(TransactionsNotReadyError):
            provider.poll_transactions(conn, account_id, handle, user_ip=None)
        batch = provider.poll_transactions(conn, account_id, handle, user_ip=None)
        again = provider.poll_transactions(conn, account_id, handle, user_ip=None)
        assert again == batch  # a completed request is re-readable
        txns.extend(batch.transactions)
        if batch.next_cursor is None:
            return txns
        cursor = batch.next_cursor


def test_consent_journey_over_the_hosted_page(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    created = env.bank.connection(conn.provider_connection_id).created_at
    assert conn.consent_expires_at == created + timedelta(days=90)
    assert env.bank.calls[0].path == "/connect/token"
    create = next(c for c in env.bank.calls if c.path == "/v3/data-connections")
    assert create.user_ip == "203.0.113.9"  # the user was present


def test_declined_consent_is_reauth_required(env: SandboxEnv) -> None:
    provider = env.provider()
    start = provider.start_connection(state="s", redirect_uri=REDIRECT_URI, user_ip=None)
    location = env.client.post(start.authorization_url, data={"decision": "deny"}).headers[
        "location"
    ]
    assert "error=access_denied" in location
    with pytest.raises(ReauthRequiredError, match="did not authorise"):
        provider.complete_connection(
            callback={"state": "s", "error": "access_denied"},
            provider_connection_id=start.provider_connection_id,
        )


def test_callback_for_another_connection_is_rejected(env: SandboxEnv) -> None:
    provider = env.provider()
    start = provider.start_connection(state="s", redirect_uri=REDIRECT_URI, user_ip=None)
    with pytest.raises(ProviderRejectedError, match="different connection"):
        provider.complete_connection(
            callback={"state": "s", "connection_id": "other"},
            provider_connection_id=start.provider_connection_id,
        )


def test_unauthorised_connection_cannot_complete(env: SandboxEnv) -> None:
    provider = env.provider()
    start = provider.start_connection(state="s", redirect_uri=REDIRECT_URI, user_ip=None)
    with pytest.raises(ReauthRequiredError, match="authorization_required"):
        provider.complete_connection(
            callback={"state": "s", "connection_id": start.provider_connection_id},
            provider_connection_id=start.provider_connection_id,
        )


def test_accounts_headers_and_match_keys(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    accounts = provider.list_accounts(conn, user_ip="198.51.100.7")
    household = household_until(env.bank.household_seed, env.bank.history_start, FIXED_NOW.date())
    expected = {a.account_number for a in household.accounts if a.type != "credit"}
    assert {a.account_number for a in accounts} == expected
    assert all(a.match_key and a.sort_code and a.currency == "GBP" for a in accounts)
    call = env.bank.calls[-1]
    assert call.path == "/v3/connected-accounts"
    assert call.connection_id == conn.provider_connection_id
    assert call.user_ip == "198.51.100.7"
    provider.list_accounts(conn, user_ip=None)
    assert env.bank.calls[-1].user_ip is None  # unattended: no user IP header
    assert CONNECTION_ID_HEADER == "Connection-Id" and USER_IP_HEADER == "Tl-User-IP"


def test_balance_matches_the_bank(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    household = household_until(env.bank.household_seed, env.bank.history_start, FIXED_NOW.date())
    for account in provider.list_accounts(conn, user_ip=None):
        source = next(a for a in household.accounts if a.account_number == account.account_number)
        balance = provider.get_balance(conn, account.provider_account_id, user_ip=None)
        assert balance.current_minor == pence(household.closing_balance(source.id))
        assert balance.available_minor == pence(
            household.closing_balance(source.id, include_pending=True)
        )
        assert balance.as_of.tzinfo is not None


def test_transactions_pages_poll_and_cursor(env: SandboxEnv) -> None:
    env.bank.default_quirks.page_size = 40
    provider = env.provider()
    conn = env.connect(provider)
    got: Counter = Counter()
    pages_before = len([c for c in env.bank.calls if c.method == "POST"])
    for account in provider.list_accounts(conn, user_ip=None):
        for t in _fetch_all(provider, conn, account.provider_account_id, WINDOW):
            got[
                (account.account_number, t.state.value, t.booked_on, t.amount_minor, t.description)
            ] += 1
    assert len([c for c in env.bank.calls if c.method == "POST"]) - pages_before > 3  # paged
    assert got == truth(env.bank, WINDOW)
    assert any(k[1] == "pending" for k in got)


def test_token_is_cached_and_refreshed_once_on_401(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    provider.list_accounts(conn, user_ip=None)
    assert sum(c.path == "/connect/token" for c in env.bank.calls) == 1
    env.bank.expire_tokens()
    provider.list_accounts(conn, user_ip=None)
    assert sum(c.path == "/connect/token" for c in env.bank.calls) == 2


def test_wrong_client_secret_is_rejected(env: SandboxEnv) -> None:
    provider = env.provider(client_secret="wrong")
    with pytest.raises(ProviderRejectedError, match="401"):
        provider.start_connection(state="s", redirect_uri=REDIRECT_URI, user_ip=None)


def test_revoked_connection_needs_reauth(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    provider.revoke_connection(conn)
    with pytest.raises(ReauthRequiredError, match="revoked"):
        provider.list_accounts(conn, user_ip=None)


def test_expired_consent_needs_reauth(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    env.bank.connection(conn.provider_connection_id).quirks.consent_expired = True
    with pytest.raises(ReauthRequiredError, match="no longer authorized"):
        provider.list_accounts(conn, user_ip=None)


def test_consent_lapses_after_90_days(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    env.bank.advance(days=90)
    assert conn.consent_expired(env.bank.now())
    with pytest.raises(ReauthRequiredError):
        provider.list_accounts(conn, user_ip=None)


def test_429_waits_for_the_retry_hint_then_succeeds(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    env.bank.switches.rate_limit_next = 2
    env.bank.switches.retry_after = 3
    assert provider.list_accounts(conn, user_ip=None)
    assert len(env.sleeps) == 2 and all(s >= 3 for s in env.sleeps)


def test_429_with_a_long_hint_is_returned_with_retry_at(env: SandboxEnv) -> None:
    provider = env.provider(max_retry_wait=30.0)
    conn = env.connect(provider)
    env.bank.switches.rate_limit_next = 1
    env.bank.switches.retry_after = 3600
    with pytest.raises(RateLimitedError) as caught:
        provider.list_accounts(conn, user_ip=None)
    assert caught.value.retry_at == env.bank.now() + timedelta(seconds=3600)
    assert env.sleeps == []  # never held the worker for an hour


def test_unattended_daily_limit_and_user_presence(env: SandboxEnv) -> None:
    env.bank.default_quirks.unattended_daily_limit = 1
    provider = env.provider()
    conn = env.connect(provider)
    account = provider.list_accounts(conn, user_ip=None)[0].provider_account_id
    provider.get_balance(conn, account, user_ip=None)
    with pytest.raises(RateLimitedError) as caught:
        provider.get_balance(conn, account, user_ip=None)
    midnight = (FIXED_NOW + timedelta(days=1)).replace(hour=0)
    assert caught.value.retry_at is not None and caught.value.retry_at >= midnight
    # The user is present: the limit does not apply.
    assert provider.get_balance(conn, account, user_ip="203.0.113.9").currency == "GBP"


def test_5xx_burst_is_retried_within_bounds(env: SandboxEnv) -> None:
    provider = env.provider(max_attempts=4)
    conn = env.connect(provider)
    calls_before = len(env.bank.calls)
    env.bank.switches.error_burst = 3
    assert provider.list_accounts(conn, user_ip=None)
    assert len(env.bank.calls) - calls_before == 4
    assert len(env.sleeps) == 3
    assert all(0 <= s <= 8.0 for s in env.sleeps)


def test_5xx_beyond_the_attempt_limit_is_provider_unavailable(env: SandboxEnv) -> None:
    provider = env.provider(max_attempts=3)
    conn = env.connect(provider)
    calls_before = len(env.bank.calls)
    env.bank.switches.error_burst = 10
    with pytest.raises(ProviderUnavailableError, match="503"):
        provider.list_accounts(conn, user_ip=None)
    assert len(env.bank.calls) - calls_before == 3  # bounded


def test_slow_bank_hits_the_read_timeout(env: SandboxEnv) -> None:
    provider = env.provider(read_timeout=0.05, max_attempts=2)
    conn = env.connect(provider)
    env.bank.switches.slow_seconds = 0.3
    with pytest.raises(ProviderUnavailableError, match="timed out"):
        provider.list_accounts(conn, user_ip=None)
    env.bank.switches.slow_seconds = 0.0


def test_pending_books_later_under_a_new_id(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    account = provider.list_accounts(conn, user_ip=None)[0].provider_account_id
    window = DateWindow(FIXED_NOW.date() - timedelta(days=10), FIXED_NOW.date() + timedelta(days=5))
    before = _fetch_all(provider, conn, account, window)
    pending = [t for t in before if t.state is TransactionState.PENDING]
    assert pending
    env.bank.advance(days=3)
    after = {t.provider_transaction_id: t for t in _fetch_all(provider, conn, account, window)}
    for p in pending:
        assert p.provider_transaction_id not in after
        booked = [
            t
            for t in after.values()
            if t.state is TransactionState.BOOKED
            and t.description == p.description
            and t.amount_minor == p.amount_minor
            and t.booked_on == p.booked_on + timedelta(days=1)
        ]
        assert len(booked) == 1


def test_changed_ids_between_requests(env: SandboxEnv) -> None:
    env.bank.default_quirks.changed_id_every = 5
    provider = env.provider()
    conn = env.connect(provider)
    account = provider.list_accounts(conn, user_ip=None)[0].provider_account_id
    first = {t.provider_transaction_id for t in _fetch_all(provider, conn, account, WINDOW)}
    second = {t.provider_transaction_id for t in _fetch_all(provider, conn, account, WINDOW)}
    changed = first - second
    assert changed and len(changed) < len(first) / 2
    assert len(first) == len(second)


def test_reconfirmation_is_a_fresh_connection_for_the_same_accounts(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    old = provider.list_accounts(conn, user_ip=None)
    start = provider.start_reconfirmation(
        conn, state="again", redirect_uri=REDIRECT_URI, user_ip=None
    )
    assert start.provider_connection_id != conn.provider_connection_id
    location = env.bank.decide(start.provider_connection_id, allow=True)
    assert "state=again" in location
    new_conn = ProviderConnection(start.provider_connection_id)
    new = provider.list_accounts(new_conn, user_ip=None)
    assert {a.provider_account_id for a in new}.isdisjoint(a.provider_account_id for a in old)
    assert {a.match_key for a in new} == {a.match_key for a in old}


def test_poll_rejects_a_page_off_the_wire_format(env: SandboxEnv) -> None:
    provider = env.provider()
    conn = env.connect(provider)
    env.bank.connection(conn.provider_connection_id).quirks.malformed_items = True
    account_id = provider.list_accounts(conn, user_ip=None)[0].provider_account_id
    handle = provider.request_transactions(conn, account_id, WINDOW, user_ip=None)
    with pytest.raises(TransactionsNotReadyError):
        provider.poll_transactions(conn, account_id, handle, user_ip=None)
    with pytest.raises(ProviderRejectedError, match="amount"):
        provider.poll_transactions(conn, account_id, handle, user_ip=None)
