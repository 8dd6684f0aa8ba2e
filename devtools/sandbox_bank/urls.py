"""The sandbox bank's routes: auth server, Data API v3 and the hosted consent page."""

from __future__ import annotations

from werkzeug.routing import Map, Rule

url_map = Map(
    [
        Rule("/connect/token", methods=["POST"], endpoint="token"),
        Rule("/v3/data-connections", methods=["POST"], endpoint="create_connection"),
        Rule("/v3/data-connections/<connection_id>", methods=["GET"], endpoint="get_connection"),
        Rule(
            "/v3/data-connections/<connection_id>", methods=["DELETE"], endpoint="delete_connection"
        ),
        Rule("/v3/connected-accounts", methods=["GET"], endpoint="accounts"),
        Rule("/v3/connected-accounts/<account_id>/balance", methods=["GET"], endpoint="balance"),
        Rule(
            "/v3/connected-accounts/<account_id>/transactions/requests",
            methods=["POST"],
            endpoint="create_transactions_request",
        ),
        Rule(
            "/v3/connected-accounts/<account_id>/transactions/requests/<request_id>",
            methods=["GET"],
            endpoint="get_transactions_request",
        ),
        Rule("/.well-known/jwks", methods=["GET"], endpoint="public_jwks"),
        Rule("/sandbox/consent/<connection_id>", methods=["GET"], endpoint="consent_page"),
        Rule("/sandbox/consent/<connection_id>", methods=["POST"], endpoint="consent_decision"),
    ]
)
