"""One query object from the API to SQL (issue 7, finding 12)."""

from __future__ import annotations

import typing

from flask import Flask
from flask.testing import FlaskClient

from service.api import schemas
from service.api.transactions import list_transactions
from service.domain import models
from service.domain.queries import TransactionQuery
from service.http.endpoint import SPEC_ATTRIBUTE
from service.use_cases import transactions as uc
from tests.service.conftest import AuthHeader


def test_the_api_validates_the_query_object_the_use_case_and_repository_read(
    app: Flask,
) -> None:
    spec = getattr(app.view_functions[f"transactions.{list_transactions.__name__}"],
                   SPEC_ATTRIBUTE)
    assert spec.query is TransactionQuery
    hints = typing.get_type_hints(uc.list_transactions)
    assert hints["query"] is TransactionQuery
    assert not hasattr(uc, "TransactionSearch")


def test_schemas_reuse_the_domain_enums() -> None:
    for model, field, enum in (
        (schemas.TransactionOut, "status", models.TransactionStatus),
        (schemas.AccountOut, "type", models.AccountType),
        (schemas.AccountOut, "visibility", models.Visibility),
        (schemas.ConnectionOut, "status", models.ConnectionStatus),
        (schemas.MemberOut, "role", models.Role),
    ):
        assert model.model_fields[field].annotation is enum, (model, field)


def test_query_rules_answer_422_at_the_edge(client: FlaskClient, auth_header: AuthHeader) -> None:
    owner = auth_header("ann@example.com")
    fid = client.post("/v1/families", json={"name": "F"}, headers=owner).get_json()["id"]
    resp = client.get(f"/v1/families/{fid}/transactions?date_from=2025-02-01&date_to=2025-01-01",
                      headers=owner)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert "date_from must not be after date_to" in resp.get_data(as_text=True)
