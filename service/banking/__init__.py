"""Open Banking data: the provider port, its normalised model and errors, ingestion decisions.

Adapters live in sub-packages (``service.banking.truelayer``); nothing here imports one, so a
second provider plugs in through :class:`~service.banking.port.ProviderRegistry` alone.
"""

from __future__ import annotations

from service.banking.errors import (
    ProviderError,
    ProviderRejectedError,
    ProviderUnavailableError,
    RateLimitedError,
    ReauthRequiredError,
    TransactionsNotReadyError,
    UnsupportedError,
)
from service.banking.models import (
    ConnectionGrant,
    ConnectionStart,
    DateWindow,
    ProviderAccount,
    ProviderBalance,
    ProviderConnection,
    ProviderTransaction,
    TransactionsBatch,
    TransactionState,
)
from service.banking.port import BankProvider, ProviderRegistry

__all__ = [
    "BankProvider",
    "ConnectionGrant",
    "ConnectionStart",
    "DateWindow",
    "ProviderAccount",
    "ProviderBalance",
    "ProviderConnection",
    "ProviderError",
    "ProviderRegistry",
    "ProviderRejectedError",
    "ProviderTransaction",
    "ProviderUnavailableError",
    "RateLimitedError",
    "ReauthRequiredError",
    "TransactionState",
    "TransactionsBatch",
    "TransactionsNotReadyError",
    "UnsupportedError",
]
