"""A local bank speaking TrueLayer's Data API v3 wire format (tests and laptops only).

Built like a moto service: ``models`` (backend state and behaviour, quirks), ``responses``
(the wire layer), ``urls`` (routes), ``exceptions`` (Problem Details), ``server`` (127.0.0.1)::

    with SandboxBankServer(SandboxBank(household_seed=7)) as bank:
        config = TrueLayerConfig(auth_url=bank.base_url, api_url=bank.base_url,
                                 client_id="sandbox-client", client_secret="sandbox-secret")
"""

from __future__ import annotations

from devtools.sandbox_bank.models import Quirks, SandboxBank, SandboxConnection
from devtools.sandbox_bank.server import SandboxBankServer
from devtools.sandbox_bank.webhooks import SignedDelivery, WebhookSender, WebhookSigner

__all__ = ["Quirks", "SandboxBank", "SandboxBankServer", "SandboxConnection", "SignedDelivery",
           "WebhookSender", "WebhookSigner"]
