"""Every error leaves as RFC 9457 problem details; the @endpoint rules hold."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from pydantic import BaseModel, ConfigDict, Field

from service.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from service.http import current_principal, endpoint
from tests.service.conftest import AuthHeader


class ThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=50)
    count: int


class ThingOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: UUID
    name: str
    count: int
    owner: str


class ThingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=200)
    tag: list[str] = []


DOMAIN_ERRORS = {
    "missing": (NotFoundError("No such thing."), 404),
    "forbidden": (PermissionDeniedError("Only owners may do that."), 403),
    "conflict": (ConflictError("Already exists."), 409),
    "invalid": (ValidationFailedError("The last owner cannot leave."), 422),
}


def _test_blueprint() -> Blueprint:
    bp = Blueprint("things", __name__, url_prefix="/v1")

    @endpoint(bp, "POST", "/things", body=ThingIn, response=ThingOut, status=201,
              summary="Create a thing")
    def create_thing(*, body: ThingIn) -> ThingOut:
        return ThingOut(id=uuid4(), name=body.name, count=body.count,
                        owner=current_principal().email)

    @endpoint(bp, "GET", "/things/<tid>", query=ThingQuery, response=ThingOut,
              summary="Get a thing")
    def get_thing(*, tid: UUID, query: ThingQuery) -> dict[str, object]:
        return {"id": tid, "name": ",".join(query.tag) or "t", "count": query.limit,
                "owner": "x"}

    @endpoint(bp, "DELETE", "/things/<tid>", status=204, summary="Delete a thing")
    def delete_thing(*, tid: UUID) -> None:
        return None

    @endpoint(bp, "GET", "/errors/<kind>", summary="Raise a domain error")
    def raise_error(*, kind: str) -> None:
        if kind == "crash":
            raise RuntimeError("secret internals: password=hunter2")
        raise DOMAIN_ERRORS[kind][0]

    @endpoint(bp, "GET", "/bad-response", response=ThingOut, summary="Invalid response")
    def bad_response() -> dict[str, object]:
        return {"id": "not-a-uuid"}

    return bp


@pytest.fixture
def test_client(platform_app: Flask) -> FlaskClient:
    platform_app.register_blueprint(_test_blueprint())
    return platform_app.test_client()


@pytest.fixture
def auth(platform_app: Flask) -> dict[str, str]:
    issuer = platform_app.extensions["service.services"].dev_issuer
    return {"Authorization": f"Bearer {issuer.issue('ann@example.com')}"}


def _problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.mimetype == "application/problem+json"  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "type" in body
    return body


def test_unknown_route_is_404_problem(test_client: FlaskClient) -> None:
    _problem(test_client.get("/v1/nowhere"), 404)


def test_wrong_method_is_405_problem_with_allow(test_client: FlaskClient) -> None:
    response = test_client.put("/health")
    _problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_missing_token_is_401_with_bearer_challenge(test_client: FlaskClient) -> None:
    response = test_client.post("/v1/things", json={"name": "a", "count": 1})
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_non_bearer_scheme_is_401(test_client: FlaskClient) -> None:
    response = test_client.get(f"/v1/things/{uuid4()}", headers={"Authorization": "Basic abc"})
    _problem(response, 401)


def test_valid_body_creates(test_client: FlaskClient, auth: dict[str, str]) -> None:
    response = test_client.post("/v1/things", json={"name": "lamp", "count": 2}, headers=auth)
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "lamp" and body["count"] == 2 and body["owner"] == "ann@example.com"
    UUID(body["id"])


def test_wrong_content_type_is_415(test_client: FlaskClient, auth: dict[str, str]) -> None:
    response = test_client.post("/v1/things", data="name=lamp", headers=auth,
                                content_type="application/x-www-form-urlencoded")
    _problem(response, 415)


def test_bad_json_is_400(test_client: FlaskClient, auth: dict[str, str]) -> None:
    response = test_client.post("/v1/things", data='{"name": "lamp",', headers=auth,
                                content_type="application/json")
    body = _problem(response, 400)
    assert "JSON" in str(body["detail"])


def test_huge_body_is_413(test_client: FlaskClient, auth: dict[str, str]) -> None:
    payload = json.dumps({"name": "x" * (70 * 1024), "count": 1})
    response = test_client.post("/v1/things", data=payload, headers=auth,
                                content_type="application/json")
    _problem(response, 413)


def test_invalid_body_is_422_with_errors_and_no_echo(
    test_client: FlaskClient, auth: dict[str, str]
) -> None:
    response = test_client.post(
        "/v1/things", json={"name": "", "count": "3", "password": "hunter2"}, headers=auth
    )
    body = _problem(response, 422)
    locations = {tuple(item["loc"]) for item in body["errors"]}  # type: ignore[attr-defined]
    assert locations == {("body", "name"), ("body", "count"), ("body", "password")}
    assert "hunter2" not in response.get_data(as_text=True)


def test_query_is_validated(test_client: FlaskClient, auth: dict[str, str]) -> None:
    tid = uuid4()
    ok = test_client.get(f"/v1/things/{tid}?limit=7&tag=a&tag=b", headers=auth)
    assert ok.status_code == 200
    assert ok.get_json() == {"id": str(tid), "name": "a,b", "count": 7, "owner": "x"}
    too_big = _problem(test_client.get(f"/v1/things/{tid}?limit=500", headers=auth), 422)
    assert too_big["errors"] == [{"loc": ["query", "limit"], "msg": too_big["errors"][0]["msg"]}]  # type: ignore[index]
    unknown = _problem(test_client.get(f"/v1/things/{tid}?colour=red", headers=auth), 422)
    assert unknown["errors"][0]["loc"] == ["query", "colour"]  # type: ignore[index]
    repeated = _problem(test_client.get(f"/v1/things/{tid}?limit=1&limit=2", headers=auth), 422)
    assert repeated["errors"][0]["loc"] == ["query", "limit"]  # type: ignore[index]


def test_query_on_route_without_query_model_is_422(
    test_client: FlaskClient, auth: dict[str, str]
) -> None:
    _problem(test_client.delete(f"/v1/things/{uuid4()}?force=1", headers=auth), 422)


def test_bad_uuid_in_path_is_404(test_client: FlaskClient, auth: dict[str, str]) -> None:
    _problem(test_client.get("/v1/things/not-a-uuid", headers=auth), 404)


def test_204_has_empty_body(test_client: FlaskClient, auth: dict[str, str]) -> None:
    response = test_client.delete(f"/v1/things/{uuid4()}", headers=auth)
    assert response.status_code == 204
    assert response.data == b""


@pytest.mark.parametrize("kind", sorted(DOMAIN_ERRORS))
def test_domain_errors_map_to_status(
    test_client: FlaskClient, auth: dict[str, str], kind: str
) -> None:
    error, status = DOMAIN_ERRORS[kind]
    body = _problem(test_client.get(f"/v1/errors/{kind}", headers=auth), status)
    assert body["detail"] == error.detail


def test_unexpected_error_is_500_without_internals(
    test_client: FlaskClient, auth: dict[str, str]
) -> None:
    response = test_client.get("/v1/errors/crash", headers=auth)
    body = _problem(response, 500)
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "RuntimeError" not in text and "Traceback" not in text
    assert body["detail"] == "The server could not complete the request."


def test_invalid_response_is_500_not_leaked(
    test_client: FlaskClient, auth: dict[str, str]
) -> None:
    response = test_client.get("/v1/bad-response", headers=auth)
    _problem(response, 500)
    assert "not-a-uuid" not in response.get_data(as_text=True)


def test_security_headers_on_every_response(test_client: FlaskClient) -> None:
    for response in (test_client.get("/health"), test_client.get("/v1/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Request-Id"]


def test_shared_auth_header_fixture_shape(auth_header: AuthHeader, client: FlaskClient) -> None:
    header = auth_header("bob@example.com")
    assert header["Authorization"].startswith("Bearer ")
    assert client.get("/health", headers=header).status_code == 200
