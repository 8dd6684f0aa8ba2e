"""The sandbox bank's wire layer: WSGI requests → :class:`SandboxBank` calls → v3 JSON.

Thin on purpose (the moto ``responses.py`` shape): parse, call the backend, serialise. Faults
are applied by the backend's :meth:`~devtools.sandbox_bank.models.SandboxBank.before_call` for
every API call, the consent page excepted (a person, not the adapter, uses it).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from devtools.sandbox_bank import exceptions as exc
from devtools.sandbox_bank.models import Call, SandboxBank
from devtools.sandbox_bank.urls import url_map

USER_IP_HEADER = "Tl-User-IP"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class SandboxBankApp:
    """The WSGI application serving one :class:`SandboxBank`."""

    def __init__(self, bank: SandboxBank) -> None:
        self.bank = bank

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """Route, apply faults, call the handler; render errors as Problem Details."""
        adapter = url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
            if not str(endpoint).startswith(("consent_", "public_")):
                self.bank.before_call(
                    Call(
                        request.method,
                        request.path,
                        request.headers.get("Connection-Id"),
                        request.headers.get(USER_IP_HEADER),
                    )
                )
                if endpoint != "token":
                    self.bank.check_token(request.headers.get("Authorization"))
            handler = getattr(self, f"on_{endpoint}")
            response: Response = handler(request, **args)
            return response
        except exc.SandboxError as error:
            return Response(
                error.body(),
                status=error.status,
                content_type=error.content_type,
                headers=error.headers,
            )
        except HTTPException as error:
            problem = exc.SandboxError(
                error.code or 500, error.name, error.description or error.name
            )
            return Response(
                problem.body(), status=problem.status, content_type=problem.content_type
            )

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            raise exc.invalid_parameters("the body is not JSON") from None
        if not isinstance(body, dict):
            raise exc.invalid_parameters("the body must be a JSON object")
        return body

    # -- auth server -------------------------------------------------------------------------
    def on_token(self, request: Request) -> Response:
        form = request.form
        return _json(
            self.bank.issue_token(
                grant_type=form.get("grant_type", ""),
                client_id=form.get("client_id", ""),
                client_secret=form.get("client_secret", ""),
                scope=form.get("scope", ""),
            )
        )

    # -- connections -------------------------------------------------------------------------
    def on_create_connection(self, request: Request) -> Response:
        body = self._body(request)
        scopes = body.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise exc.invalid_parameters("scopes must be an array of strings")
        conn = self.bank.create_connection(
            scopes=scopes,
            redirect_uri=str(body.get("redirect_uri", "")),
            state=str(body.get("state", "")),
        )
        return _json(
            {
                "id": conn.id,
                "status": conn.status,
                "hosted_page": {"uri": self.bank.hosted_page_uri(conn)},
            },
            201,
        )

    def on_get_connection(self, request: Request, connection_id: str) -> Response:
        return _json(self.bank.view_connection(connection_id))

    def on_delete_connection(self, request: Request, connection_id: str) -> Response:
        self.bank.revoke(connection_id)
        return Response(status=204)

    # -- data --------------------------------------------------------------------------------
    def on_accounts(self, request: Request) -> Response:
        return _json({"items": self.bank.list_accounts(request.headers.get("Connection-Id"))})

    def on_balance(self, request: Request, account_id: str) -> Response:
        return _json(
            self.bank.balance(
                request.headers.get("Connection-Id"),
                account_id,
                request.headers.get(USER_IP_HEADER),
            )
        )

    def on_create_transactions_request(self, request: Request, account_id: str) -> Response:
        req = self.bank.request_transactions(
            request.headers.get("Connection-Id"),
            account_id,
            self._body(request),
            request.headers.get(USER_IP_HEADER),
        )
        response = _json({"id": req.id, "status": "pending"}, 202)
        if self.bank.webhooks.enabled:
            # Notify after the client has its 202, as the real bank's request finishes later.
            response.call_on_close(lambda: self.bank.complete_request(req.id))
        return response

    # -- webhook key set ---------------------------------------------------------------------
    def on_public_jwks(self, request: Request) -> Response:
        return _json(self.bank.webhooks.signer.jwks())

    def on_get_transactions_request(
        self, request: Request, account_id: str, request_id: str
    ) -> Response:
        return _json(
            self.bank.read_transactions(
                request.headers.get("Connection-Id"), account_id, request_id
            )
        )

    # -- hosted consent page -----------------------------------------------------------------
    def on_consent_page(self, request: Request, connection_id: str) -> Response:
        conn = self.bank.connection(connection_id)
        scopes = ", ".join(conn.scopes)
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Sandbox Bank: share your data</title></head><body>
<h1>Sandbox Bank</h1>
<p>An app asks to see your <strong>{html.escape(scopes)}</strong> for 90 days.</p>
<form method="post"><button name="decision" value="allow">Allow</button>
<button name="decision" value="deny">Deny</button></form></body></html>"""
        return Response(
            page,
            content_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": "default-src 'none'; form-action 'self' http://127.0.0.1:*"
            },
        )

    def on_consent_decision(self, request: Request, connection_id: str) -> Response:
        location = self.bank.decide(connection_id, allow=request.form.get("decision") == "allow")
        return Response(status=302, headers={"Location": location})
