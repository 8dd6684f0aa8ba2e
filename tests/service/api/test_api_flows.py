"""API flows through the real app on a fresh database: families, invitations, members."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

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


def _accept(client: FlaskClient, token: str, headers: dict[str, str]) -> TestResponse:
    return client.post("/v1/invitations/accept", json={"token": token}, headers=headers)


def test_invitation_flow(client: FlaskClient, auth_header: AuthHeader) -> None:
    owner = auth_header("ann@example.com")
    fid = _create_family(client, auth_header, "ann@example.com")
    resp = client.post(f"/v1/families/{fid}/invitations",
                       json={"email": "Bob@Example.com", "role": "adult"}, headers=owner)
    assert resp.status_code == 201, resp.get_json()
    invitation = resp.get_json()
    assert invitation["status"] == "pending" and invitation["email"] == "bob@example.com"
    token = invitation["token"]

    wrong = _accept(client, token, auth_header("eve@example.com"))
    assert wrong.status_code == 403
    assert wrong.headers["Content-Type"].startswith("application/problem+json")

    ok = _accept(client, token, auth_header("bob@example.com"))
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json() == {"id": fid, "name": "The Smiths", "role": "adult"}

    again = _accept(client, token, auth_header("bob@example.com"))
    assert again.status_code == 409

    listed = client.get(f"/v1/families/{fid}/invitations", headers=owner).get_json()
    assert [i["status"] for i in listed["items"]] == ["accepted"]
    assert "token" not in listed["items"][0]

    members = client.get(f"/v1/families/{fid}/members", headers=owner).get_json()["items"]
    assert sorted(m["role"] for m in members) == ["adult", "owner"]


def test_unknown_and_malformed_invitation_tokens_are_404(
    client: FlaskClient, auth_header: AuthHeader
) -> None:
    for token in ("x" * 43, "short", "a" * 100):
        resp = _accept(client, token, auth_header("bob@example.com"))
        assert resp.status_code == 404


def test_last_owner_cannot_be_demoted_or_removed(client: FlaskClient,
                                                 auth_header: AuthHeader) -> None:
    owner = auth_header("ann@example.com")
    fid = _create_family(client, auth_header, "ann@example.com")
    me = client.get(f"/v1/families/{fid}/members", headers=owner).get_json()["items"][0]
    demote = client.patch(f"/v1/families/{fid}/members/{me['id']}", json={"role": "adult"},
                          headers=owner)
    assert demote.status_code == 409
    leave = client.delete(f"/v1/families/{fid}/members/{me['id']}", headers=owner)
    assert leave.status_code == 409
    assert client.get(f"/v1/families/{fid}", headers=owner).status_code == 200


def test_expired_invitation_is_refused(app: object, client: FlaskClient,
                                       auth_header: AuthHeader) -> None:
    owner = auth_header("ann@example.com")
    fid = _create_family(client, auth_header, "ann@example.com")
    token = client.post(f"/v1/families/{fid}/invitations", json={"email": "bob@example.com"},
                        headers=owner).get_json()["token"]
    db = app.extensions["service.services"].database  # type: ignore[attr-defined]
    db.execute("UPDATE invitations SET expires_at = now() - interval '1 minute'")
    resp = _accept(client, token, auth_header("bob@example.com"))
    assert resp.status_code == 409
    assert client.get(f"/v1/families/{fid}", headers=auth_header("bob@example.com")
                      ).status_code == 404


def test_deleted_family_disappears_for_everyone(client: FlaskClient,
                                                auth_header: AuthHeader) -> None:
    owner = auth_header("ann@example.com")
    fid = _create_family(client, auth_header, "ann@example.com")
    assert client.delete(f"/v1/families/{fid}", headers=owner).status_code == 204
    assert client.get(f"/v1/families/{fid}", headers=owner).status_code == 404
    assert client.get("/v1/me", headers=owner).get_json()["families"] == []
    # DELETE is idempotent for the owner who deleted it (a retry finishes the shredding);
    # anyone else learns nothing.
    assert client.delete(f"/v1/families/{fid}", headers=owner).status_code == 204
    stranger = auth_header("eve@example.com")
    client.get("/v1/me", headers=stranger)
    assert client.delete(f"/v1/families/{fid}", headers=stranger).status_code == 404


def test_audit_endpoint_pages_newest_first(client: FlaskClient, auth_header: AuthHeader) -> None:
    owner = auth_header("ann@example.com")
    fid = _create_family(client, auth_header, "ann@example.com")
    for n in range(3):
        created = client.post(f"/v1/families/{fid}/invitations", headers=owner,
                              json={"email": f"kid{n}@example.com", "role": "child"})
        assert created.status_code == 201
    client.get(f"/v1/families/{fid}/accounts", headers=owner)  # reads are not chained
    first = client.get(f"/v1/families/{fid}/audit", query_string={"limit": "2"},
                       headers=owner).get_json()
    assert [e["action"] for e in first["items"]] == ["invitation.create", "invitation.create"]
    second = client.get(f"/v1/families/{fid}/audit",
                        query_string={"limit": "10", "cursor": first["next_cursor"]},
                        headers=owner).get_json()
    actions = [e["action"] for e in second["items"]]
    assert actions == ["invitation.create", "family.create"] and second["next_cursor"] is None
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True)
