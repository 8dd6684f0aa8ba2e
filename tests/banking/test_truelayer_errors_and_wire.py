"""Problem Details mapping (TrueLayer's documented v3 error table) and wire validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import TypeAdapter

from service.banking import (
    ProviderRejectedError,
    ProviderUnavailableError,
    RateLimitedError,
    ReauthRequiredError,
    UnsupportedError,
)
from service.banking.truelayer import wire
from service.banking.truelayer.problems import error_from_response, parse_retry_after

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
_ITEM = TypeAdapter(wire.TransactionItem)


def _problem(status: int, title: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {
        "type": "https://docs.truelayer.com/docs/data-v3-errors",
        "title": title,
        "status": status,
        "detail": "d",
        "trace_id": "t-1",
    }
    return httpx.Response(status, content=json.dumps(body), headers=headers or {})


@pytest.mark.parametrize(
    ("status", "title", "expected"),
    [
        (400, "Invalid Parameters", ProviderRejectedError),
        (400, "Invalid State", ReauthRequiredError),
        (403, "Forbidden", ReauthRequiredError),
        (404, "Not Found", ProviderRejectedError),
        (429, "Rate Limit Exceeded", RateLimitedError),
        (502, "Feature Not Supported", UnsupportedError),
        (502, "Provider Error", ProviderUnavailableError),
        (500, "Unknown Error", ProviderUnavailableError),
        (503, "", ProviderUnavailableError),
    ],
)
def test_documented_error_table(status: int, title: str, expected: type) -> None:
    error = error_from_response(_problem(status, title), NOW)
    assert type(error) is expected
    assert error.trace_id == "t-1"
    assert error.retryable is (expected in (RateLimitedError, ProviderUnavailableError))


def test_non_problem_body_is_judged_by_status() -> None:
    error = error_from_response(httpx.Response(504, content=b"<html>gateway</html>"), NOW)
    assert isinstance(error, ProviderUnavailableError)


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120", NOW) == NOW + timedelta(seconds=120)
    assert parse_retry_after("Fri, 20 Nov 2026 13:00:00 GMT", NOW) == NOW + timedelta(hours=1)
    assert parse_retry_after("Fri, 20 Nov 2020 13:00:00 GMT", NOW) == NOW  # past: now
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None
    error = error_from_response(_problem(429, "Rate Limit Exceeded", {"Retry-After": "7"}), NOW)
    assert isinstance(error, RateLimitedError) and error.retry_at == NOW + timedelta(seconds=7)


def test_mismatched_wire_is_rejected_with_the_field() -> None:
    body = {
        "id": "r",
        "status": "completed",
        "items": [{"transaction_id": "t", "status": "booked"}],
    }
    with pytest.raises(ProviderRejectedError, match=r"items\.0\.timestamp"):
        wire.parse(wire.TransactionsRequestResult, body, "transactions result")


def test_sub_penny_amount_is_rejected() -> None:
    item = _ITEM.validate_python(
        {
            "transaction_id": "t",
            "status": "booked",
            "timestamp": "2026-11-01T00:00:00Z",
            "description": "X",
            "amount": {"value": "1.234", "currency": "GBP"},
            "transaction_type": "DEBIT",
        }
    )
    with pytest.raises(ProviderRejectedError, match="not valid money"):
        wire.to_transaction("a", item)


def test_debit_is_negative_credit_positive() -> None:
    base = {
        "transaction_id": "t",
        "status": "booked",
        "timestamp": "2026-11-01",
        "description": "X",
        "amount": {"value": "12.30", "currency": "GBP"},
    }
    debit = wire.to_transaction(
        "a", _ITEM.validate_python(base | {"transaction_type": "DEBIT"})
    )
    credit = wire.to_transaction(
        "a", _ITEM.validate_python(base | {"transaction_type": "CREDIT"})
    )
    assert (debit.amount_minor, credit.amount_minor) == (-1230, 1230)


def test_a_page_ignores_unknown_fields_and_keeps_amounts_exact() -> None:
    item = {
        "transaction_id": "t",
        "status": "pending",
        "timestamp": "2026-11-01T23:30:00+00:00",
        "description": "X",
        "amount": {"value": "0.10", "currency": "GBP", "extra": 1},
        "transaction_type": "CREDIT",
        "running_balance": {"amount": 1},
    }
    body = json.loads(json.dumps({"id": "r", "status": "completed", "items": [item]}))
    page = wire.parse(wire.TransactionsRequestResult, body, "transactions result")
    txn = wire.to_transaction("a", page.items[0])
    assert (txn.amount_minor, txn.state.value, txn.booked_on.isoformat()) == (10, "pending",
                                                                              "2026-11-01")
    assert (txn.merchant_name, txn.category) == (None, None)
