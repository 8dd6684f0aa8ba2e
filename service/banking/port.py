"""The provider port: what the sync and the API need from any Open Banking provider.

A provider adapter (TrueLayer Data API v3 today; GoCardless Bank Account Data could follow)
implements :class:`BankProvider` and raises only the errors in :mod:`service.banking.errors`.
The sync and the API depend on this port alone, so a second provider is a new adapter plus one
entry in the :class:`ProviderRegistry` built at start-up.

Transactions come through a request/poll pair because the TrueLayer v3 API is asynchronous; a
synchronous provider returns a handle that encodes the window and answers the first poll.

``user_ip`` is the end user's IP address when the user is present (a request they made), and
``None`` for unattended work (a scheduled sync). Callers take it from the
``CloudFront-Viewer-Address`` header that the edge distribution forwards, never from
``X-Forwarded-For``, which any client can forge.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol, runtime_checkable

from service.banking.models import (
    ConnectionGrant,
    ConnectionStart,
    DateWindow,
    ProviderAccount,
    ProviderBalance,
    ProviderConnection,
    TransactionsBatch,
)


@runtime_checkable
class BankProvider(Protocol):
    """An Open Banking data provider."""

    name: str

    def start_connection(
        self, *, state: str, redirect_uri: str, user_ip: str | None
    ) -> ConnectionStart:
        """Create a connection and return where to send the user to consent.

        ``state`` is the caller's single-use, user-bound value; it comes back on the redirect.
        """
        ...

    def complete_connection(
        self, *, callback: Mapping[str, str], provider_connection_id: str
    ) -> ConnectionGrant:
        """Finish the consent journey from the redirect's query parameters.

        The caller has already checked ``state`` against what it stored. Raises
        :class:`~service.banking.errors.ReauthRequiredError` if the user declined.
        """
        ...

    def start_reconfirmation(
        self, connection: ProviderConnection, *, state: str, redirect_uri: str, user_ip: str | None
    ) -> ConnectionStart:
        """Start renewing consent for ``connection`` (the UK 90-day reconfirmation)."""
        ...

    def list_accounts(
        self, connection: ProviderConnection, *, user_ip: str | None
    ) -> list[ProviderAccount]:
        """Every account the connection shares."""
        ...

    def get_balance(
        self, connection: ProviderConnection, provider_account_id: str, *, user_ip: str | None
    ) -> ProviderBalance:
        """The account's current balance."""
        ...

    def request_transactions(
        self,
        connection: ProviderConnection,
        provider_account_id: str,
        window: DateWindow,
        *,
        cursor: str | None = None,
        user_ip: str | None,
    ) -> str:
        """Ask for a page of the account's transactions in ``window``; returns a handle to poll.

        ``cursor`` is the previous page's ``next_cursor`` (None for the first page).
        """
        ...

    def poll_transactions(
        self,
        connection: ProviderConnection,
        provider_account_id: str,
        handle: str,
        *,
        user_ip: str | None,
    ) -> TransactionsBatch:
        """One page of a request, or :class:`TransactionsNotReadyError` while it is prepared.

        Polling a handle again returns the same page (it is safe to retry).
        """
        ...

    def revoke_connection(self, connection: ProviderConnection) -> None:
        """Withdraw the connection at the provider."""
        ...


class ProviderRegistry(Mapping[str, BankProvider]):
    """The providers this deployment speaks, by :attr:`BankProvider.name` (built at start-up)."""

    def __init__(self, *providers: BankProvider) -> None:
        self._providers = {p.name: p for p in providers}
        if len(self._providers) != len(providers):
            raise ValueError("two providers share a name")

    def __getitem__(self, name: str) -> BankProvider:
        return self._providers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __len__(self) -> int:
        return len(self._providers)
