"""The shared fixtures produce a working app with an authenticated caller."""

from __future__ import annotations

from flask.testing import FlaskClient

from service.http.context import current_principal
from tests.service.conftest import AuthHeader


def test_health_is_public(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_auth_header_authenticates(client: FlaskClient, auth_header: AuthHeader) -> None:
    app = client.application

    @app.get("/_whoami")
    def whoami() -> dict[str, str]:
        principal = current_principal()
        return {"email": principal.email}

    assert client.get("/_whoami").status_code == 401
    response = client.get("/_whoami", headers=auth_header("Ann@Example.com"))
    assert response.status_code == 200
    assert response.get_json() == {"email": "ann@example.com"}
