"""Access logs (JSON, no PII/tokens), the OpenAPI document and docs page, CLI commands."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict

from devtools.cli import cli, dev_token
from service import create_app
from service.auth.verifier import JwtVerifier
from service.http import endpoint
from service.logging import principal_hash
from service.openapi import build_openapi
from service.settings import Settings
from tests.service.platform.conftest import UNUSED_DB_URL


def _access_lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "service.access"]


def test_access_log_is_json_without_token_or_email(
    local_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(runtime="local", database_url=UNUSED_DB_URL, local_dir=local_dir,
                        log_level="INFO")
    app = create_app(settings)
    issuer = app.extensions["service.services"].dev_issuer
    token = issuer.issue("carol@example.com")
    bp = Blueprint("probe", __name__)

    @endpoint(bp, "GET", "/v1/probe/<pid>", status=204, summary="Probe")
    def probe(*, pid: UUID) -> None:
        return None

    app.register_blueprint(bp)
    capsys.readouterr()
    pid = "0b8f0f5e-3c4a-4f0e-9a43-6d1c3f2b7a10"
    response = app.test_client().get(f"/v1/probe/{pid}",
                                     headers={"Authorization": f"Bearer {token}"})
    output = capsys.readouterr().out
    [line] = _access_lines(output)
    assert line["route"] == "/v1/probe/<pid>"  # the rule, not the concrete path
    assert line["status"] == 204 == response.status_code
    assert line["method"] == "GET"
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert isinstance(line["latency_ms"], float)
    assert line["principal"] == principal_hash(
        "http://localhost/dev-issuer", issuer.subject_for("carol@example.com")
    )
    assert token not in output and "carol" not in output and pid not in output


def test_problem_responses_are_logged_with_status(
    platform_app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("service").setLevel("INFO")
    capsys.readouterr()
    platform_app.test_client().get("/nope")
    [line] = _access_lines(capsys.readouterr().out)
    assert line["status"] == 404 and line["route"] is None and line["principal"] is None


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: UUID
    label: str


class ItemQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = 50
    tag: list[str] = []


def _register_examples(app: Flask) -> None:
    bp = Blueprint("examples", __name__, url_prefix="/v1")

    @endpoint(bp, "POST", "/items", body=Item, response=Item, status=201, summary="Create")
    def create_item(*, body: Item) -> Item:
        return body

    @endpoint(bp, "GET", "/items", query=ItemQuery, response=list[Item], summary="List")
    def list_items(*, query: ItemQuery) -> list[Item]:
        return []

    @endpoint(bp, "DELETE", "/items/<iid>", status=204, summary="Delete", tags=["items"])
    def delete_item(*, iid: UUID) -> None:
        return None

    app.register_blueprint(bp)


def _documented_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    return routes


def _assert_complete_and_valid(app: Flask, document: dict[str, Any]) -> None:
    validate(document)  # OpenAPI 3.1 schema validation
    documented = {
        (path, method) for path, ops in document["paths"].items() for method in ops
    }
    assert _documented_routes(app) == documented


def test_openapi_of_the_real_app_is_valid_and_complete(app: Flask, client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    _assert_complete_and_valid(app, document)
    assert document["paths"]["/health"]["get"]["security"] == []


def test_openapi_describes_bodies_queries_and_errors(platform_app: Flask) -> None:
    _register_examples(platform_app)
    document = build_openapi(platform_app)
    _assert_complete_and_valid(platform_app, document)
    create = document["paths"]["/v1/items"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }
    assert {"201", "400", "401", "413", "415", "422", "500"} <= set(create["responses"])
    assert create["responses"]["422"]["content"]["application/problem+json"]
    listing = document["paths"]["/v1/items"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["limit"]["schema"]["type"] == "integer" and not params["limit"]["required"]
    assert params["tag"]["schema"]["type"] == "array"
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    delete = document["paths"]["/v1/items/{iid}"]["delete"]
    assert delete["parameters"][0] == {
        "name": "iid", "in": "path", "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    assert "content" not in delete["responses"]["204"]
    assert {"401", "404"} <= set(delete["responses"])
    assert "Item" in document["components"]["schemas"]


def test_openapi_lists_statuses_explicitly_without_a_catch_all(app: Flask) -> None:
    # Fuzzing finding: a ``default`` response documented every status, so a surprise status
    # (and the contract check for it) could never be told apart from a listed one.
    document = app.test_client().get("/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            assert "500" in responses, (method, path)
            if operation.get("security") != []:
                assert "401" in responses, (method, path)


def test_docs_page_is_self_contained(platform_app: Flask) -> None:
    _register_examples(platform_app)
    response = platform_app.test_client().get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce is not None and f'nonce="{nonce.group(1)}"' in html
    assert "default-src 'none'" in csp and "script" not in html.lower()
    assert "/v1/items/{iid}" in html and "http" not in html.replace("/openapi.json", "")


def test_cli_dev_token_verifies(platform_app: Flask) -> None:
    result = platform_app.test_cli_runner().invoke(dev_token, args=["dora@example.com"])
    assert result.exit_code == 0, result.output
    verifier: JwtVerifier = platform_app.extensions["service.services"].verifier
    assert verifier.verify(result.output.strip()).email == "dora@example.com"


def test_cli_dev_token_refused_without_dev_issuer(local_dir: Path) -> None:
    settings = Settings(runtime="local", database_url=UNUSED_DB_URL, local_dir=local_dir,
                        dev_issuer=False)
    result = create_app(settings).test_cli_runner().invoke(dev_token, args=["x@example.com"])
    assert result.exit_code != 0 and "disabled" in result.output


def test_dev_commands_are_not_in_the_service_cli(platform_app: Flask) -> None:
    service_help = platform_app.test_cli_runner().invoke(args=["--help"]).output
    assert "dev-token" not in service_help and "run-dev" not in service_help
    assert {"dev-token", "run-dev", "local-data-api"} <= set(cli.commands)


def test_cli_db_upgrade_is_idempotent(settings: Settings, postgres_owner_url: str) -> None:
    owner_settings = replace(settings, database_owner_url=postgres_owner_url)
    result = create_app(owner_settings).test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "applied 0 migration(s)" in result.output  # postgres_url is already migrated


def test_cli_db_upgrade_refuses_to_run_as_the_app_role(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])  # DATABASE_URL: the app role
    assert result.exit_code != 0
    assert "as the database owner" in result.output and "DATABASE_OWNER_URL" in result.output


def test_cli_db_upgrade_on_empty_database(empty_postgres_url: str, local_dir: Path) -> None:
    settings = Settings(runtime="local", database_url=empty_postgres_url, local_dir=local_dir)
    app = create_app(settings)
    first = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    count = int(re.search(r"applied (\d+)", first.output).group(1))  # type: ignore[union-attr]
    assert count >= 1
    second = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert "applied 0 migration(s)" in second.output
    app.extensions["service.services"].close()


def test_cli_audit_verify_on_clean_database(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
