"""The insights API over HTTP: status codes, problem details and shapes (real PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.context import SERVICES_KEY
from service.insights.taxonomy import CATEGORY_IDS
from tests.service.conftest import AuthHeader
from tests.service.domain.helpers import World
from tests.service.domain.insights_world import build_insights_world, refresh


@pytest.fixture
def world(app: Flask) -> World:
    built = build_insights_world(app.extensions[SERVICES_KEY].database)
    refresh(built)
    return built


def _h(auth_header: AuthHeader, who: str) -> dict[str, str]:
    return auth_header(f"{who}@example.com")


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["detail"]
    return body


def test_categories(client: FlaskClient, world: World, auth_header: AuthHeader) -> None:
    response = client.get(f"/v1/families/{world.family}/categories",
                          headers=_h(auth_header, "child"))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [i["id"] for i in items] == list(CATEGORY_IDS)
    assert items[-1] == {"id": "other", "label": "Other"}
    _problem(client.get(f"/v1/families/{world.family}/categories",
                        headers=_h(auth_header, "outsider")), 404)


def test_patch_transaction_accepts_taxonomy_ids_only(
    client: FlaskClient, world: World, auth_header: AuthHeader
) -> None:
    page = client.get(f"/v1/families/{world.family}/transactions?text=NETFLIX&limit=1",
                      headers=_h(auth_header, "owner")).get_json()
    (txn,) = page["items"]
    assert (txn["category"], txn["category_source"]) == ("entertainment", "merchant")
    bad = _problem(client.patch(f"/v1/transactions/{txn['id']}", json={"category": "Sweets"},
                                headers=_h(auth_header, "owner")), 422)
    assert "Unknown category 'Sweets'" in bad["errors"][0]["msg"]
    good = client.patch(f"/v1/transactions/{txn['id']}", json={"category": "bills"},
                        headers=_h(auth_header, "owner"))
    assert good.status_code == 200
    assert (good.get_json()["category"], good.get_json()["category_source"],
            good.get_json()["category_confidence"]) == ("bills", "member", 1.0)
    refresh(world)
    again = client.get(f"/v1/families/{world.family}/transactions?category=bills",
                       headers=_h(auth_header, "owner")).get_json()["items"]
    assert txn["id"] in {t["id"] for t in again}
    assert {t["category_source"] for t in again if t["description"] == "NETFLIX.COM"} == {
        "member", "learned"}
    cleared = client.patch(f"/v1/transactions/{txn['id']}", json={"category": None},
                           headers=_h(auth_header, "owner")).get_json()
    assert (cleared["category"], cleared["category_source"]) == (None, None)


def test_rules_crud(client: FlaskClient, world: World, auth_header: AuthHeader) -> None:
    base = f"/v1/families/{world.family}/rules"
    owner, child = _h(auth_header, "owner"), _h(auth_header, "child")
    created = client.post(base, json={"category": "bills", "merchant": "Netflix",
                                      "priority": 3, "max_amount": "20.00"}, headers=owner)
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert (rule["category"], rule["max_amount"], rule["min_amount"]) == ("bills", "20.00", None)
    assert client.get(base, headers=owner).get_json()["items"] == [rule]
    _problem(client.get(base, headers=child), 403)
    _problem(client.post(base, json={"category": "bills", "text": "x"}, headers=child), 403)
    _problem(client.post(base, json={"category": "bills"}, headers=owner), 422)
    _problem(client.post(base, json={"category": "bills", "min_amount": "9",
                                     "max_amount": "1"}, headers=owner), 422)
    _problem(client.post(base, json={"category": "nope", "text": "x"}, headers=owner), 422)
    _problem(client.post(base, json={"category": "bills", "text": "x", "colour": "red"},
                         headers=owner), 422)
    _problem(client.post(base, json={"category": "bills", "min_amount": "-1"},
                         headers=owner), 422)
    replaced = client.put(f"{base}/{rule['id']}", json={"category": "shopping", "text": "net"},
                          headers=owner)
    assert replaced.status_code == 200
    assert (replaced.get_json()["category"], replaced.get_json()["merchant"]) == (
        "shopping", None)
    _problem(client.delete(f"/v1/families/{world.other_family}/rules/{rule['id']}",
                           headers=_h(auth_header, "outsider")), 404)
    _problem(client.delete(f"{base}/{rule['id']}", headers=_h(auth_header, "outsider")), 404)
    assert client.delete(f"{base}/{rule['id']}", headers=_h(auth_header, "adult")
                         ).status_code == 204
    _problem(client.delete(f"{base}/{rule['id']}", headers=owner), 404)
    _problem(client.delete(f"{base}/not-a-uuid", headers=owner), 404)


def test_recurring_and_decisions(client: FlaskClient, world: World,
                                 auth_header: AuthHeader) -> None:
    listed = client.get(f"/v1/families/{world.family}/recurring",
                        headers=_h(auth_header, "owner"))
    assert listed.status_code == 200
    series = {s["merchant"]: s for s in listed.get_json()["items"]}
    netflix = series["Netflix"]
    assert netflix["next_date"] == "2025-07-15"
    assert netflix["next_amount"] == {"amount": "-10.99", "currency": "GBP"}
    assert netflix["status"] == "active" and netflix["decision"] is None
    path = f"/v1/recurring/{netflix['id']}"
    _problem(client.patch(path, json={"decision": "maybe"}, headers=_h(auth_header, "owner")),
             422)
    _problem(client.patch(path, json={"decision": "dismissed"},
                          headers=_h(auth_header, "child")), 404)
    _problem(client.patch(path, json={"decision": "dismissed"},
                          headers=_h(auth_header, "outsider")), 404)
    _problem(client.patch("/v1/recurring/rs_nope", json={"decision": "dismissed"},
                          headers=_h(auth_header, "owner")), 404)
    dismissed = client.patch(path, json={"decision": "dismissed"},
                             headers=_h(auth_header, "owner"))
    assert dismissed.status_code == 200 and dismissed.get_json()["decision"] == "dismissed"
    refresh(world)
    after = {s["id"]: s for s in client.get(f"/v1/families/{world.family}/recurring",
                                            headers=_h(auth_header, "adult")).get_json()["items"]}
    assert after[netflix["id"]]["decision"] == "dismissed"
    _problem(client.get(f"/v1/families/{world.family}/recurring",
                        headers=_h(auth_header, "loner")), 404)


def test_runway(client: FlaskClient, world: World, auth_header: AuthHeader) -> None:
    base = f"/v1/families/{world.family}/runway"
    owner = _h(auth_header, "owner")
    plain = client.get(f"{base}?horizon=90", headers=owner)
    assert plain.status_code == 200, plain.get_json()
    body = plain.get_json()
    assert body["as_of"] == "2025-06-30" and body["horizon_days"] == 90
    assert len(body["daily"]) == 90 and body["daily"][0]["date"] == "2025-07-01"
    assert body["balance"] == {"amount": "13040.00", "currency": "GBP"}
    stops = client.get(f"{base}?scenario=income_stops,expense:2025-07-10:9000.00"
                       "&buffer=1000.00", headers=owner).get_json()
    assert stops["runway_days"] is not None and stops["below_buffer_date"] <= stops["zero_date"]
    for query in ("scenario=income_stop", "scenario=cancel:rs_0123456789abcdef",
                  "horizon=0", "horizon=5000", "buffer=abc", "buffer=-5", "colour=red",
                  "scenario=expense:2025-06-01:10.00"):
        _problem(client.get(f"{base}?{query}", headers=owner), 422)
    _problem(client.get(base, headers=_h(auth_header, "outsider")), 404)


def test_spending(client: FlaskClient, world: World, auth_header: AuthHeader) -> None:
    base = f"/v1/families/{world.family}/spending"
    owner = _h(auth_header, "owner")
    response = client.get(f"{base}?period=month&by=category&start=2025-05-01&end=2025-06-30",
                          headers=owner)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [p["start"] for p in body["periods"]] == ["2025-05-01", "2025-06-01"]
    june = {c["category"]: c for c in body["periods"][1]["categories"]}
    assert june["entertainment"]["spent"] == {"amount": "10.99", "currency": "GBP"}
    assert "transfers" not in june
    for query in ("by=merchant", "period=day", "start=2025-06-02&end=2025-06-01",
                  "start=2019-01-01&end=2025-06-01", "start=yesterday"):
        _problem(client.get(f"{base}?{query}", headers=owner), 422)
    _problem(client.get(base, headers=_h(auth_header, "outsider")), 404)
