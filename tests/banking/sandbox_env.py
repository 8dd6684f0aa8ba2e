"""A sandbox bank on 127.0.0.1 and a TrueLayer adapter pointed at it, for tests.

Nothing is mocked: the adapter speaks HTTP to the sandbox bank's real server. Only time is
injected: the bank's clock is fixed (and moved by tests), and the adapter's and runner's sleeps
are recorded instead of slept.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlparse

import httpx

from devtools.sandbox_bank import SandboxBank, SandboxBankServer
from devtools.sandbox_bank.households import household_until
from service.banking import DateWindow, ProviderConnection
from service.banking.ingestion import InMemoryIngestion
from service.banking.truelayer import TrueLayerConfig, TrueLayerHttp, TrueLayerProvider

FIXED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REDIRECT_URI = "http://127.0.0.1/v1/connections/callback"


@dataclass
class SandboxEnv:
    """The bank, its server, and an adapter speaking to it."""

    bank: SandboxBank
    server: SandboxBankServer
    client: httpx.Client
    config: TrueLayerConfig
    sleeps: list[float] = field(default_factory=list)

    def provider(self, **overrides: object) -> TrueLayerProvider:
        """A TrueLayer adapter for this bank (config fields may be overridden)."""
        fields = {
            "auth_url": self.server.base_url,
            "api_url": self.server.base_url,
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "read_timeout": 5.0,
        } | overrides
        config = TrueLayerConfig(**fields)  # type: ignore[arg-type]
        http = TrueLayerHttp(
            config,
            client=self.client,
            clock=self.bank.now,
            sleep=self.sleeps.append,
            rng=random.Random(3),
        )
        return TrueLayerProvider(config, http=http)

    def connect(self, provider: TrueLayerProvider, *, state: str = "state-1") -> ProviderConnection:
        """Run the whole consent journey over HTTP, as a browser would."""
        start = provider.start_connection(
            state=state, redirect_uri=REDIRECT_URI, user_ip="203.0.113.9"
        )
        page = self.client.get(start.authorization_url)
        assert page.status_code == 200 and "Allow" in page.text
        decision = self.client.post(start.authorization_url, data={"decision": "allow"})
        assert decision.status_code == 302
        callback = dict(parse_qsl(urlparse(decision.headers["location"]).query))
        assert callback["state"] == state
        grant = provider.complete_connection(
            callback=callback, provider_connection_id=start.provider_connection_id
        )
        return ProviderConnection(grant.provider_connection_id, grant.consent_expires_at)


def make_env(**bank_args: object) -> tuple[SandboxEnv, SandboxBankServer]:
    """Start a bank (fixed clock unless given) and return the environment."""
    bank = SandboxBank(clock=lambda: FIXED_NOW, **bank_args)  # type: ignore[arg-type]
    server = SandboxBankServer(bank).start()
    client = httpx.Client()
    config = TrueLayerConfig(
        auth_url=server.base_url, api_url=server.base_url, client_id="x", client_secret="y"
    )
    return SandboxEnv(bank=bank, server=server, client=client, config=config), server


def truth(bank: SandboxBank, window: DateWindow) -> Counter[tuple[str, str, date, int, str]]:
    """What the bank holds in ``window`` today: (account number, state, date, pence, text)."""
    household = household_until(bank.household_seed, bank.history_start, bank.now().date())
    numbers = {a.id: a.account_number for a in household.accounts if a.type != "credit"}
    lag = bank.default_quirks.pending_lag_days
    result: Counter[tuple[str, str, date, int, str]] = Counter()
    for t in household.transactions:
        if t.account_id not in numbers:
            continue
        day = t.booked - timedelta(days=lag) if t.pending else t.booked
        if window.contains(day):
            state = "pending" if t.pending else "booked"
            pence = int(t.amount * 100)
            result[(str(numbers[t.account_id]), state, day, pence, t.description)] += 1
    return result


def stored(
    ingestion: InMemoryIngestion, window: DateWindow
) -> Counter[tuple[str, str, date, int, str]]:
    """The same view of what a sync stored."""
    numbers = {a.account_id: a.account.account_number for a in ingestion.accounts()}
    return Counter(
        (str(numbers[r.account_id]), r.state.value, r.booked_on, r.amount_minor, r.description)
        for r in ingestion.transactions()
        if window.contains(r.booked_on)
    )


def pence(value: Decimal) -> int:
    """Pounds to pence."""
    return int(value * 100)


#: The steps that ingest transactions: the poll step ingests every account whose whole chain
#: one attempt read, the ingest step the others (see ``service.workflows.bank_sync``).
INGEST_STEPS = ("poll_transactions", "ingest_transactions")
#: Counts of those steps that are not ingest outcomes.
_NOT_OUTCOMES = {"pages", "page_waits", "accounts_ingested"}


def ingest_outcomes(steps: Iterable[tuple[str, Mapping[str, int]]]) -> Counter[str]:
    """The ingest counts (``fetched``, ``inserted``, ...) of a run, summed over the steps
    that ingest; ``steps`` are (name, counts) pairs of a run record or a run's JSON view."""
    total: Counter[str] = Counter()
    for name, counts in steps:
        if name in INGEST_STEPS:
            total.update({k: v for k, v in counts.items() if k not in _NOT_OUTCOMES})
    return total
