"""TrueLayer Data API v3 adapter implementing :class:`service.banking.port.BankProvider`.

Calls (reference pages in :mod:`service.banking.truelayer.wire` and ``http``):

* ``POST /v3/data-connections`` — create a connection bound to our ``state`` and redirect URI;
  the user consents on TrueLayer's hosted page and is sent back to the redirect URI with
  ``state`` and ``connection_id`` (or ``error`` if they declined).
* ``GET /v3/data-connections/{id}`` — read its status after the redirect (authorized/active);
  the consent lasts 90 days from creation (https://docs.truelayer.com/docs/creating-a-connection).
* ``GET /v3/connected-accounts``, ``GET /v3/connected-accounts/{id}/balance``.
* ``POST /v3/connected-accounts/{id}/transactions/requests`` (``from``, ``to``, ``cursor``) then
  ``GET .../requests/{request_id}`` until ``completed``; each page's ``next_cursor`` starts a new
  request (https://docs.truelayer.com/docs/get-transactions: a request id is re-readable and
  always returns the same page).
* ``DELETE /v3/data-connections/{id}`` — revoke.

Consent reconfirmation (UK 90-day rule): Data API v3 does not document an extension endpoint
yet — TrueLayer publishes "Extend a connection" for v3 only as an empty working draft
(https://docs.truelayer.com/openapi/2026-11-12_data-api-v3-extend-draft.json), and the
documented ``/connections/extend`` (https://docs.truelayer.com/docs/extend-a-connection) belongs
to the v1 token model. The closest documented v3 path is a fresh connection the user authorises
again; :meth:`TrueLayerProvider.start_reconfirmation` creates one, and the sync links its
accounts to the existing ones through :attr:`ProviderAccount.match_key` (sort code + account
number or IBAN) so nothing is duplicated. The previous connection is revoked once the new one
is complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, timedelta
from urllib.parse import quote

from service.banking.errors import (
    ProviderRejectedError,
    ProviderUnavailableError,
    ReauthRequiredError,
    TransactionsNotReadyError,
)
from service.banking.models import (
    ConnectionGrant,
    ConnectionStart,
    DateWindow,
    ProviderAccount,
    ProviderBalance,
    ProviderConnection,
    TransactionsBatch,
)
from service.banking.truelayer import wire
from service.banking.truelayer.config import TrueLayerConfig
from service.banking.truelayer.http import TrueLayerHttp


def _seg(value: str) -> str:
    return quote(value, safe="")


class TrueLayerProvider:
    """The TrueLayer Data API v3 as a :class:`~service.banking.port.BankProvider`."""

    name = "truelayer"

    def __init__(self, config: TrueLayerConfig, *, http: TrueLayerHttp) -> None:
        self._config = config
        self._http = http

    # -- connections -------------------------------------------------------------------------
    def start_connection(
        self, *, state: str, redirect_uri: str, user_ip: str | None
    ) -> ConnectionStart:
        """Create a data connection; the user goes to its hosted page to consent."""
        reply = self._http.request(
            "POST",
            "/v3/data-connections",
            user_ip=user_ip,
            json_body={
                "scopes": list(self._config.scopes),
                "redirect_uri": redirect_uri,
                "state": state,
            },
        )
        created = wire.parse(wire.ConnectionCreated, reply.body, "create connection")
        return ConnectionStart(
            provider_connection_id=created.id, authorization_url=created.hosted_page.uri
        )

    def complete_connection(
        self, *, callback: Mapping[str, str], provider_connection_id: str
    ) -> ConnectionGrant:
        """Check the redirect and the connection's status; return its consent window."""
        if "error" in callback:
            raise ReauthRequiredError(
                f"the user did not authorise the connection ({callback['error']})"
            )
        returned = callback.get("connection_id")
        if returned != provider_connection_id:
            raise ProviderRejectedError("the redirect names a different connection than its state")
        reply = self._http.request("GET", f"/v3/data-connections/{_seg(provider_connection_id)}")
        view = wire.parse(wire.ConnectionView, reply.body, "get connection")
        if view.status not in ("authorized", "active"):
            raise ReauthRequiredError(f"the connection is {view.status}, not authorised")
        created = view.created_at.astimezone(UTC)
        expires = view.consent_expires_at or created + timedelta(days=self._config.consent_days)
        return ConnectionGrant(
            provider_connection_id=view.id,
            granted_at=created,
            consent_expires_at=expires.astimezone(UTC),
        )

    def start_reconfirmation(
        self, connection: ProviderConnection, *, state: str, redirect_uri: str, user_ip: str | None
    ) -> ConnectionStart:
        """A fresh connection for the same user (v3 documents no extension; see module doc)."""
        return self.start_connection(state=state, redirect_uri=redirect_uri, user_ip=user_ip)

    def revoke_connection(self, connection: ProviderConnection) -> None:
        """Delete the connection at TrueLayer."""
        self._http.request(
            "DELETE", f"/v3/data-connections/{_seg(connection.provider_connection_id)}"
        )

    # -- data --------------------------------------------------------------------------------
    def list_accounts(
        self, connection: ProviderConnection, *, user_ip: str | None
    ) -> list[ProviderAccount]:
        """``GET /v3/connected-accounts`` (at most 50 accounts; v3 does not paginate yet)."""
        reply = self._http.request(
            "GET",
            "/v3/connected-accounts",
            connection_id=connection.provider_connection_id,
            user_ip=user_ip,
        )
        accounts = wire.parse(wire.ConnectedAccounts, reply.body, "list accounts")
        return [wire.to_account(a) for a in accounts.items]

    def get_balance(
        self, connection: ProviderConnection, provider_account_id: str, *, user_ip: str | None
    ) -> ProviderBalance:
        """``GET /v3/connected-accounts/{id}/balance``."""
        reply = self._http.request(
            "GET",
            f"/v3/connected-accounts/{_seg(provider_account_id)}/balance",
            connection_id=connection.provider_connection_id,
            user_ip=user_ip,
        )
        return wire.to_balance(provider_account_id, wire.parse(wire.Balance, reply.body, "balance"))

    def request_transactions(
        self,
        connection: ProviderConnection,
        provider_account_id: str,
        window: DateWindow,
        *,
        cursor: str | None = None,
        user_ip: str | None,
    ) -> str:
        """Create an asynchronous transactions request; its id is the handle."""
        body: dict[str, str] = {"from": window.start.isoformat(), "to": window.end.isoformat()}
        if cursor is not None:
            body["cursor"] = cursor
        reply = self._http.request(
            "POST",
            f"/v3/connected-accounts/{_seg(provider_account_id)}/transactions/requests",
            connection_id=connection.provider_connection_id,
            user_ip=user_ip,
            json_body=body,
        )
        return wire.parse(wire.TransactionsRequestCreated, reply.body, "transactions request").id

    def poll_transactions(
        self,
        connection: ProviderConnection,
        provider_account_id: str,
        handle: str,
        *,
        user_ip: str | None,
    ) -> TransactionsBatch:
        """Read a transactions request; raises ``TransactionsNotReadyError`` while pending."""
        reply = self._http.request(
            "GET",
            f"/v3/connected-accounts/{_seg(provider_account_id)}/transactions/requests/{_seg(handle)}",
            connection_id=connection.provider_connection_id,
            user_ip=user_ip,
        )
        result = wire.parse(wire.TransactionsRequestResult, reply.body, "transactions result")
        self._check_ready(result.status, handle)
        txns = tuple(wire.to_transaction(provider_account_id, item) for item in result.items)
        return TransactionsBatch(
            transactions=txns, next_cursor=result.next_cursor if txns else None
        )

    @staticmethod
    def _check_ready(status: str, handle: str) -> None:
        if status == "pending":
            raise TransactionsNotReadyError(f"transactions request {handle} is still pending")
        if status == "failed":
            raise ProviderUnavailableError(f"transactions request {handle} failed at the provider")
