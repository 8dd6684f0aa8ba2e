"""API flows through the real app on a fresh database: families, invitations, members."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.service.conftest import AuthHeader


def _create_family(client: FlaskClient, auth_header: AuthHeader, email: str) -> str:
    resp = client.post("/v1/families", json={"name": "The Smiths"}, headers=auth_header(email))
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["id"])


def test_create_family_then_me_lists_it(client: FlaskClient, auth_header: AuthHeader) -> None:
    fid = _create_family(client, auth_header, "ann@example.com")
    me = client.get("/v1/me", headers=auth_header("ann@example.com")).get_json()
    assert me["email"] == "ann@example.com"
    assert me["families"] == [{"id": fid, "name": "The Smiths", "role": "owner"}]
    got = client.get(f"/v1/families/{fid}", headers=auth_header("ann@example.com"))
    assert got.status_code == 200 and got.get_json()["role"] == "owner"


def test_invitation_flow(client: FlaskClient, auth_header: AuthHeader) -> None:
    owner = auth_header("ann@example.com")
    fid = _create_family(client, auth_header, "ann@example.com")
    resp = client.post(f"/v1/families/{fid}/invitations",
                       json={"email": "Bob@Example.com", "role": "adult"}, headers=owner)
    assert resp.status_code == 201, resp.get_json()
    invitation = resp.get_json()
    assert invitation["status"] == "pending" and invitation["email"] == "bob@example.com"
    token = invitation["token"]

    wrong = client.post(f"/v1/invitations/{token}/accept", headers=auth_header("eve@example.com"))
    assert wrong.status_code == 403
    assert wrong.headers["Content-Type"].startswith("application/problem+json")

    ok = client.post(f"/v1/invitations/{token}/accept", headers=auth_header("bob@example.com"))
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json() == {"id": fid, "name": "The Smiths", "role": "adult"}

    again = client.post(f"/v1/invitations/{token}/accept", headers=auth_header("bob@example.com"))
    assert again.status_code == 409

    listed = client.get(f"/v1/families/{fid}/invitations", headers=owner).get_json()
    assert [i["status"] for i in listed["items"]] == ["accepted"]
    assert "token" not in listed["items"][0]

    members = client.get(f"/v1/families/{fid}/members", headers=owner).get_json()["items"]
    assert sorted(m["role"] for m in members) == ["adult", "owner"]


def test_unknown_and_malformed_invitation_tokens_are_404(
    client: FlaskClient, auth_header: AuthHeader
) -> None:
    for token in ("x" * 43, "short", "a" * 500):
        resp = client.post(f"/v1/invitations/{token}/accept",
                           headers=auth_header("bob@example.com"))
        assert resp.status_code == 404
