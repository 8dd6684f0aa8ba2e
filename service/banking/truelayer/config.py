"""Settings of the TrueLayer adapter: where to call, which credentials, how patiently.

Client credentials are passed in as values by the caller (read from Secrets Manager through
``service.secrets`` at cold start); this module never reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Documented hosts: https://docs.truelayer.com/docs/enable-your-users-to-connect-their-bank-account
# (token from the auth server, Data API v3 on the api host; sandbox and live differ only by host).
SANDBOX_AUTH_URL = "https://auth.truelayer-sandbox.com"
SANDBOX_API_URL = "https://api.truelayer-sandbox.com"
LIVE_AUTH_URL = "https://auth.truelayer.com"
LIVE_API_URL = "https://api.truelayer.com"

DEFAULT_SCOPES = ("info", "accounts", "balance", "transactions")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrueLayerConfig:
    """Everything the adapter needs; ``client_secret`` never appears in ``repr``.

    Parameters
    ----------
    auth_url, api_url
        Base URLs of the auth server and the Data API (sandbox, live, or the local sandbox bank).
    client_id, client_secret
        The application's client credentials.
    scopes
        What a new connection asks the user to share.
    connect_timeout, read_timeout
        Seconds; every call has both (a stuck bank must not hold a worker to its time limit).
    max_attempts
        Calls per request, first included, on 5xx, 429, timeouts and connection errors.
    base_backoff, max_backoff
        Full-jitter exponential backoff between attempts, in seconds.
    max_retry_wait
        The longest a ``Retry-After`` hint is waited for in-process; a longer one is returned
        to the caller as :class:`~service.banking.errors.RateLimitedError` with its ``retry_at``
        so the workflow can defer instead of holding a worker.
    consent_days
        How long a UK consent lasts before reconfirmation (90 days).
    """

    auth_url: str
    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    connect_timeout: float = 3.0
    read_timeout: float = 15.0
    max_attempts: int = 4
    base_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_wait: float = 30.0
    consent_days: int = 90

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("timeouts must be positive")

    @classmethod
    def sandbox(cls, *, client_id: str, client_secret: str) -> TrueLayerConfig:
        """TrueLayer's sandbox environment (the staging stage)."""
        return cls(
            auth_url=SANDBOX_AUTH_URL,
            api_url=SANDBOX_API_URL,
            client_id=client_id,
            client_secret=client_secret,
        )

    @classmethod
    def local_sandbox(cls, base_url: str) -> TrueLayerConfig:
        """The local sandbox bank (``devtools.sandbox_bank``) at ``base_url``, with its fixed
        test credentials (``Settings.bank_base_url``; laptops and tests only)."""
        return cls(
            auth_url=base_url,
            api_url=base_url,
            client_id="sandbox-client",
            client_secret="sandbox-secret",  # noqa: S106 - the local test double's credential
        )

    @classmethod
    def live(cls, *, client_id: str, client_secret: str) -> TrueLayerConfig:
        """TrueLayer's production environment."""
        return cls(
            auth_url=LIVE_AUTH_URL,
            api_url=LIVE_API_URL,
            client_id=client_id,
            client_secret=client_secret,
        )
