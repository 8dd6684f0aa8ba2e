"""The demo seed: realistic, idempotent, and visible to dev-issuer logins by role."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient

from devtools.demo import seed_demo
from devtools.dev_issuer import DEV_ISSUER, DevIssuer
from service.db.port import Database
from tests.service.conftest import AuthHeader
from tests.service.domain.helpers import count_rows, local_keyring, local_signer


def test_seed_is_realistic_and_idempotent(postgres_db: Database) -> None:
    keys = local_keyring(postgres_db)
    seed_demo(postgres_db, keys, signer=local_signer(), issuer=DEV_ISSUER,
              subject_for=DevIssuer.subject_for,
              today=date(2025, 3, 31))
    first = count_rows(postgres_db)
    assert 150 <= first["transactions"] <= 300
    assert first["memberships"] == 3 and first["accounts"] == 4
    assert first["balances"] == 4 * 90
    statuses = {r["status"] for r in postgres_db.fetch_all("SELECT status FROM transactions")}
    assert statuses == {"pending", "booked"}
    span = postgres_db.fetch_one(
        "SELECT min(booked_on) AS lo, max(booked_on) AS hi FROM transactions")
    assert span is not None and (span["hi"] - span["lo"]).days >= 80
    assert {r["currency"] for r in postgres_db.fetch_all(
        "SELECT DISTINCT currency FROM transactions")} == {"GBP"}

    seed_demo(postgres_db, keys, signer=local_signer(), issuer=DEV_ISSUER,
              subject_for=DevIssuer.subject_for,
              today=date(2025, 4, 1))
    assert count_rows(postgres_db) == first


def test_demo_logins_see_by_role(app: object, client: FlaskClient,
                                 auth_header: AuthHeader) -> None:
    services = app.extensions["service.services"]  # type: ignore[attr-defined]
    seed_demo(services.database, services.keyring, signer=services.audit_signer)
    owner = client.get("/v1/me", headers=auth_header("demo.owner@example.com")).get_json()
    fid = owner["families"][0]["id"]

    def visible(email: str) -> set[str]:
        resp = client.get(f"/v1/families/{fid}/accounts", headers=auth_header(email))
        return {a["name"] for a in resp.get_json()["items"]}

    family_visible = {"Joint Current Account", "Family Savings", "Chloe's Pocket Money"}
    assert visible("demo.owner@example.com") == family_visible
    assert visible("demo.adult@example.com") == family_visible | {"Adam's Credit Card"}
    assert visible("demo.child@example.com") == {"Chloe's Pocket Money"}


def test_the_demo_family_shows_insights(app: object, client: FlaskClient,
                                        auth_header: AuthHeader) -> None:
    services = app.extensions["service.services"]  # type: ignore[attr-defined]
    seed_demo(services.database, services.keyring, signer=services.audit_signer,
              today=date(2025, 3, 31))
    owner = auth_header("demo.owner@example.com")
    fid = client.get("/v1/me", headers=owner).get_json()["families"][0]["id"]
    page = client.get(f"/v1/families/{fid}/transactions?limit=200", headers=owner).get_json()
    assert all(t["category"] is not None for t in page["items"])
    recurring = client.get(f"/v1/families/{fid}/recurring", headers=owner).get_json()["items"]
    active = [s for s in recurring if s["status"] == "active"]
    assert active and all(s["next_date"] > "2025-03-31" for s in active)
    assert any(s["direction"] == "inflow" for s in active)  # the salary
    spending = client.get(f"/v1/families/{fid}/spending?period=month&by=category",
                          headers=owner)
    assert spending.status_code == 200
    runway = client.get(f"/v1/families/{fid}/runway?scenario=income_stops", headers=owner)
    assert runway.status_code == 200 and runway.get_json()["as_of"] == "2025-03-31"
