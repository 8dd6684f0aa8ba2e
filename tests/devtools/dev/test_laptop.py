"""``make dev``: the ready message, the interactive docs, the sandbox bank the adapter uses."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import httpx
from flask import Flask
from werkzeug.test import Client

from devtools.cli import ready_message
from devtools.docs_ui import CSP, InteractiveDocs
from devtools.sandbox_bank import SandboxBank, SandboxBankServer
from service.banking.truelayer import TrueLayerConfig, TrueLayerHttp, TrueLayerProvider

LOCK = Path(__file__).resolve().parents[3] / "service" / "requirements.lock"


def test_the_ready_message_names_the_demo_family() -> None:
    fid = uuid4()
    text = ready_message(base="http://127.0.0.1:5000", bank_url="http://127.0.0.1:5001",
                         token="tok", family_id=fid)
    assert "<fid>" not in text
    assert f"/v1/families/{fid}/transactions?limit=20" in text
    assert f"/v1/families/{fid}/connections" in text
    assert "export TOKEN=tok" in text
    unseeded = ready_message(base="b", bank_url="k", token="t", family_id=None)
    assert "/v1/families/" not in unseeded and "<fid>" not in unseeded


def _wrapped() -> Client:
    inner = Flask("inner")

    @inner.get("/openapi.json")
    def document() -> dict[str, str]:
        return {"openapi": "3.1.0"}

    return Client(InteractiveDocs(inner))


def test_docs_is_swagger_ui_served_locally_under_a_strict_csp() -> None:
    client = _wrapped()
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="swagger-ui"' in html
    assert "http://" not in html and "https://" not in html  # no CDN, nothing external
    assert "<script>" not in html  # no inline script: the initialiser is a file
    assert page.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    init = client.get("/docs/assets/init.js").get_data(as_text=True)
    assert '"url": "/openapi.json"' in init and '"tryItOutEnabled": true' in init
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert bundle.headers["Content-Type"] == "text/javascript"
    assert b"SwaggerUIBundle" in bundle.get_data()
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    # Everything else is the service's own answer (here: the inner app's).
    assert client.get("/openapi.json").get_json() == {"openapi": "3.1.0"}
    assert client.get("/docs/assets/../../etc/passwd").status_code == 404


def test_the_lambda_lock_pins_the_signing_library_and_not_the_docs_ui() -> None:
    pins = dict(line.split("==", 1) for line in LOCK.read_text().splitlines()
                if line and not line.startswith("#"))
    names = {name.lower().replace("_", "-") for name in pins}
    assert "truelayer-signing" in names
    assert not any(name.startswith("swagger") for name in names)
    assert int(pins["cryptography"].split(".")[0]) < 50  # truelayer-signing 0.4: <50


def test_local_settings_point_the_adapter_at_the_sandbox_bank() -> None:
    with SandboxBankServer(SandboxBank()) as server, httpx.Client() as client:
        config = TrueLayerConfig.local_sandbox(server.base_url)
        provider = TrueLayerProvider(config, http=TrueLayerHttp(config, client=client))
        start = provider.start_connection(state="s", redirect_uri="http://127.0.0.1:5000/cb",
                                          user_ip=None)
        base = server.base_url
    assert start.authorization_url.startswith(f"{base}/sandbox/consent/")
    assert base.startswith("http://127.0.0.1:")
