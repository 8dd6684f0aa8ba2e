"""Households in the shapes their consumers read: insights transactions and CLI JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from devtools.households.model import HouseholdTransaction
from service.insights.model import Transaction


def to_transaction(
    txn: HouseholdTransaction, *, provider: bool = True, classification: bool | None = None
) -> Transaction:
    """The insights view of a generated transaction.

    ``provider=False`` drops the provider's transaction type (``provider_category``) and
    ``classification=False`` its classification (which the generator derives from the true
    label, with noise): to measure what the categoriser does without them.
    """
    classification = provider if classification is None else classification
    return Transaction(
        id=txn.id,
        account_id=txn.account_id,
        booked=txn.booked,
        amount=txn.amount,
        currency=txn.currency,
        description=txn.description,
        merchant_name=txn.merchant_name,
        provider_category=txn.transaction_category if provider else None,
        provider_classification=txn.transaction_classification if classification else (),
    )


def cli_record(txn: HouseholdTransaction, *, provider: bool = True) -> dict[str, Any]:
    """One line of ``python -m service.insights`` input."""
    record: dict[str, Any] = {
        "id": txn.id,
        "account_id": txn.account_id,
        "date": txn.booked.isoformat(),
        "amount": str(txn.amount),
        "currency": txn.currency,
        "description": txn.description,
    }
    if txn.merchant_name is not None:
        record["merchant_name"] = txn.merchant_name
    if provider:
        record["provider_category"] = txn.transaction_category
    return record


def json_lines(
    transactions: Iterable[HouseholdTransaction], *, provider: bool = True
) -> Iterator[str]:
    """Booked transactions as CLI input lines (pending ones are not exported)."""
    for txn in transactions:
        if not txn.pending:
            yield json.dumps(cli_record(txn, provider=provider)) + "\n"
