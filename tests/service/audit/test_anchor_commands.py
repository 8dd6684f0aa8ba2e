"""``flask --app service audit anchor|verify`` and the scheduled anchoring handler."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from flask import Flask

from service.audit import scheduled
from service.http.context import SERVICES_KEY


@pytest.fixture
def local_dir(tmp_path: Path) -> Path:
    """Anchors of this test only (the shared per-worker directory holds other databases')."""
    return tmp_path


def test_anchor_then_verify_from_the_cli_and_tampering_fails_it(
    app: Flask, client: object, auth_header: object, postgres_owner_url: str
) -> None:
    headers = auth_header("ann@example.com")  # type: ignore[operator]
    fid = client.post("/v1/families", json={"name": "F"},  # type: ignore[attr-defined]
                      headers=headers).get_json()["id"]
    runner = app.test_cli_runner()
    anchored = runner.invoke(args=["audit", "anchor"])
    assert anchored.exit_code == 0 and "anchored 1 chain(s)" in anchored.output
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "OK" in verified.output and "anchor of" in verified.output
    with psycopg.connect(postgres_owner_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE audit_heads DISABLE TRIGGER USER")
        conn.execute(f"DELETE FROM audit_log WHERE family_id = '{fid}'".encode())
        conn.execute(f"DELETE FROM audit_heads WHERE family_id = '{fid}'".encode())
    failed = runner.invoke(args=["audit", "verify"])
    assert failed.exit_code == 1
    assert "chain deleted" in failed.output


def test_the_scheduled_handler_takes_an_anchor(app: Flask) -> None:
    services = app.extensions[SERVICES_KEY]
    scheduled.use_services(services)
    try:
        result = scheduled.handler({}, None)
    finally:
        scheduled.use_services(None)
    assert result["chains"] == 0 and result["location"].endswith(".json")
    assert services.anchor_store.latest() is not None
