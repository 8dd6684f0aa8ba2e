"""The connect line ``make dev`` prints works as pasted (it once lacked the JSON body: 415)."""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from devtools.cli import ready_message
from tests.service.conftest import AuthHeader


def test_the_printed_connect_curl_line_starts_a_connection(
    client: FlaskClient, auth_header: AuthHeader,
) -> None:
    owner = auth_header("owner@example.com")
    family = client.post("/v1/families", json={"name": "Pasted"}, headers=owner)
    assert family.status_code == 201, family.get_json()
    text = ready_message(base="http://127.0.0.1:5000", bank_url="http://127.0.0.1:5001",
                         token="tok", family_id=family.get_json()["id"])
    [line] = [ln for ln in text.splitlines() if "-X POST" in ln and "/connections" in ln]
    words = shlex.split(line.strip())
    headers = {k.strip(): v.strip() for k, v in (
        words[i + 1].split(":", 1) for i, w in enumerate(words) if w == "-H")}
    headers["Authorization"] = owner["Authorization"]  # what $TOKEN expands to
    body = words[words.index("-d") + 1]
    response = client.post(urlsplit(words[-1]).path, data=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["authorization_url"].startswith("http")
