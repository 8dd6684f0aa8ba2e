"""Every route of the API and the module that serves it, for lazy loading.

The app registers these at build time (:func:`service.http.lazy_routes.register_lazy_routes`)
and imports a module only when a request first reaches one of its routes, so a cold start
pays for the resources it serves, not for all of them. Adding an ``@endpoint`` means adding
its line here; ``tests/service/platform/test_cold_start_shape.py`` fails, naming the
missing or stale lines, when this table and the modules' ``@endpoint`` declarations differ
(method, rule, endpoint, module and whether the route is public).

This module imports neither Flask nor CDK, so infrastructure code may read it too (e.g. the
public routes an HTTP API must leave without an authorizer: :func:`public_routes`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LazyRoute:
    """``method rule`` served by ``endpoint`` (``"<blueprint>.<handler>"``) of ``module``.

    ``public`` routes skip bearer authentication (their ``@endpoint`` says ``public=True``).
    """

    method: str
    rule: str
    endpoint: str
    module: str
    public: bool = False


def public_routes() -> tuple[LazyRoute, ...]:
    """The routes served without a bearer token."""
    return tuple(route for route in ROUTES if route.public)


ROUTES: tuple[LazyRoute, ...] = (
    LazyRoute("GET", "/docs", "openapi.docs", "service.openapi.routes", public=True),
    LazyRoute("GET", "/health", "health.health", "service.api.health", public=True),
    LazyRoute("GET", "/openapi.json", "openapi.openapi_json", "service.openapi.routes",
              public=True),
    LazyRoute("GET", "/v1/accounts/<aid>", "accounts.get_account", "service.api.accounts"),
    LazyRoute("PATCH", "/v1/accounts/<aid>", "accounts.patch_account", "service.api.accounts"),
    LazyRoute("GET", "/v1/accounts/<aid>/balances", "accounts.list_balances",
              "service.api.accounts"),
    LazyRoute("POST", "/v1/families", "families.create_family", "service.api.families"),
    LazyRoute("GET", "/v1/families/<fid>", "families.get_family", "service.api.families"),
    LazyRoute("DELETE", "/v1/families/<fid>", "families.delete_family", "service.api.families"),
    LazyRoute("GET", "/v1/families/<fid>/accounts", "accounts.list_accounts",
              "service.api.accounts"),
    LazyRoute("GET", "/v1/families/<fid>/audit", "audit.list_audit", "service.api.audit"),
    LazyRoute("GET", "/v1/families/<fid>/categories", "insights.list_categories",
              "service.api.insights"),
    LazyRoute("GET", "/v1/families/<fid>/connections", "connections.list_connections",
              "service.api.connections"),
    LazyRoute("POST", "/v1/families/<fid>/connections", "connections.create_connection",
              "service.api.connections"),
    LazyRoute("DELETE", "/v1/families/<fid>/connections/<cid>", "connections.revoke_connection",
              "service.api.connections"),
    LazyRoute("POST", "/v1/families/<fid>/connections/<cid>/reconfirm",
              "connections.reconfirm_connection", "service.api.connections"),
    LazyRoute("POST", "/v1/families/<fid>/connections/<cid>/syncs", "connections.start_sync",
              "service.api.connections"),
    LazyRoute("GET", "/v1/families/<fid>/connections/<cid>/syncs/<rid>",
              "connections.get_sync_run", "service.api.connections"),
    LazyRoute("GET", "/v1/families/<fid>/invitations", "invitations.list_invitations",
              "service.api.invitations"),
    LazyRoute("POST", "/v1/families/<fid>/invitations", "invitations.create_invitation",
              "service.api.invitations"),
    LazyRoute("GET", "/v1/families/<fid>/members", "members.list_members", "service.api.members"),
    LazyRoute("GET", "/v1/families/<fid>/recurring", "insights.list_recurring",
              "service.api.insights"),
    LazyRoute("GET", "/v1/families/<fid>/rules", "insights.list_rules", "service.api.insights"),
    LazyRoute("POST", "/v1/families/<fid>/rules", "insights.create_rule", "service.api.insights"),
    LazyRoute("PUT", "/v1/families/<fid>/rules/<rid>", "insights.replace_rule",
              "service.api.insights"),
    LazyRoute("DELETE", "/v1/families/<fid>/rules/<rid>", "insights.delete_rule",
              "service.api.insights"),
    LazyRoute("GET", "/v1/families/<fid>/runway", "insights.get_runway", "service.api.insights"),
    LazyRoute("GET", "/v1/families/<fid>/spending", "insights.get_spending",
              "service.api.insights"),
    LazyRoute("PATCH", "/v1/families/<fid>/members/<mid>", "members.change_member_role",
              "service.api.members"),
    LazyRoute("DELETE", "/v1/families/<fid>/members/<mid>", "members.remove_member",
              "service.api.members"),
    LazyRoute("GET", "/v1/families/<fid>/transactions", "transactions.list_transactions",
              "service.api.transactions"),
    LazyRoute("POST", "/v1/invitations/accept", "invitations.accept_invitation",
              "service.api.invitations"),
    LazyRoute("GET", "/v1/connections/callback", "connections.connection_callback",
              "service.api.connections", public=True),
    LazyRoute("GET", "/v1/me", "me.get_me", "service.api.me"),
    LazyRoute("PATCH", "/v1/me", "me.patch_me", "service.api.me"),
    LazyRoute("PATCH", "/v1/recurring/<sid>", "insights.patch_recurring", "service.api.insights"),
    LazyRoute("PATCH", "/v1/transactions/<tid>", "transactions.patch_transaction",
              "service.api.transactions"),
    LazyRoute("POST", "/v1/webhooks/truelayer", "webhooks.truelayer_webhook",
              "service.api.webhooks", public=True),
)
