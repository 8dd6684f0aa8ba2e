"""Identity checks: verified e-mail only as JSON ``true``, bounded token lifetimes, and one
canonical e-mail form for tokens, invitations and their comparison."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from devtools.dev_issuer import DevIssuer
from service.auth.emails import UnsupportedEmailError, canonical_email, normalize_email
from service.auth.jwks import JwksCache
from service.auth.verifier import JwtVerifier, TrustedIssuer
from service.errors import AuthenticationRequired
from tests.service.conftest import AuthHeader
from tests.service.platform.conftest import COGNITO_CLIENT, COGNITO_ISSUER, FakeCognito

KELVIN = "\u212a"  # KELVIN SIGN: NFKC folds it into LATIN CAPITAL K


@pytest.fixture
def verifier(fake_cognito: FakeCognito) -> JwtVerifier:
    keys = JwksCache(fake_cognito.jwks)
    return JwtVerifier([TrustedIssuer(COGNITO_ISSUER, COGNITO_CLIENT, keys)], leeway=5)


def _reason(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(AuthenticationRequired) as caught:
        verifier.verify(token)
    return str(caught.value.description)


@pytest.mark.parametrize("value", [False, "false", "true", "True", 0, 1, None, [], {}])
def test_email_verified_must_be_json_true(verifier: JwtVerifier, fake_cognito: FakeCognito,
                                          value: Any) -> None:
    # None drops the claim (missing); every other value is present but not exactly `true`.
    assert "not verified" in _reason(verifier, fake_cognito.token(email_verified=value))


def test_email_verified_true_passes(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    assert verifier.verify(fake_cognito.token(email_verified=True)).email == "ann@example.com"


def test_a_token_valid_for_a_century_is_refused(verifier: JwtVerifier,
                                                fake_cognito: FakeCognito) -> None:
    now = int(time.time())
    token = fake_cognito.token(iat=now, exp=now + 100 * 365 * 86400)
    assert "lifetime exceeds 3600 seconds" in _reason(verifier, token)


def test_the_lifetime_cap_is_exact(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    now = int(time.time())
    assert verifier.verify(fake_cognito.token(iat=now, exp=now + 3600)).subject
    assert "lifetime" in _reason(verifier, fake_cognito.token(iat=now, exp=now + 3601))


@pytest.mark.parametrize("iat", [None, "now", 1.5e9, True])
def test_iat_is_required_and_whole_seconds(verifier: JwtVerifier, fake_cognito: FakeCognito,
                                           iat: Any) -> None:
    now = int(time.time())
    claims = {"iat": iat if iat != 1.5e9 else float(now), "exp": now + 60}
    _reason(verifier, fake_cognito.token(**claims))


def test_iat_in_the_future_is_refused(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    now = int(time.time())
    assert "not valid yet" in _reason(verifier, fake_cognito.token(iat=now + 600, exp=now + 900))


def test_a_per_issuer_cap(fake_cognito: FakeCognito) -> None:
    keys = JwksCache(fake_cognito.jwks)
    strict = JwtVerifier([TrustedIssuer(COGNITO_ISSUER, COGNITO_CLIENT, keys, max_lifetime=900)])
    now = int(time.time())
    assert "exceeds 900" in _reason(strict, fake_cognito.token(iat=now, exp=now + 901))


def test_dev_tokens_are_capped_too(tmp_path: Any) -> None:
    issuer = DevIssuer(tmp_path)
    with pytest.raises(ValueError, match="expires_in"):
        issuer.issue("ann@example.com", expires_in=13 * 3600)
    verifier = JwtVerifier([issuer.trusted_issuer()])
    assert verifier.verify(issuer.issue("ann@example.com", expires_in=12 * 3600)).email


# -- one canonical e-mail form ---------------------------------------------------------------


def test_normalisation_is_nfkc_then_casefold() -> None:
    assert normalize_email("  Ann@Example.COM ") == "ann@example.com"
    assert normalize_email(f"{KELVIN}ate@example.com") == "kate@example.com"  # what NFKC means
    assert normalize_email("Stra\u00dfe@example.com") == "strasse@example.com"


@pytest.mark.parametrize("address", [
    f"{KELVIN}ate@example.com",   # Kelvin sign
    "\uff4bate@example.com",      # fullwidth k
    "\ufb01ona@example.com",      # fi ligature
    "kate@ex\u0430mple.com",      # Cyrillic a in the domain
    "k\u0301ate@example.com",     # combining accent
])
def test_look_alike_addresses_are_refused(address: str) -> None:
    with pytest.raises(UnsupportedEmailError):
        canonical_email(address)


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                      blacklist_characters="@"), min_size=1, max_size=20),
       st.sampled_from(["example.com", "EXAMPLE.co.uk"]))
def test_ascii_addresses_are_lower_cased_and_stable(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    canonical = canonical_email(address)
    assert canonical == address.lower()
    assert canonical_email(canonical) == canonical == normalize_email(canonical)


def test_a_kelvin_sign_token_is_refused(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    assert "must be ASCII" in _reason(verifier, fake_cognito.token(email=f"{KELVIN}ate@x.com"))


def test_a_look_alike_cannot_be_invited_nor_accept_kates_invitation(
    client: FlaskClient, auth_header: AuthHeader
) -> None:
    owner = auth_header("ann@example.com")
    fid = client.post("/v1/families", json={"name": "F"}, headers=owner).get_json()["id"]
    bad = client.post(f"/v1/families/{fid}/invitations",
                      json={"email": f"{KELVIN}ate@example.com"}, headers=owner)
    assert bad.status_code == 422
    token = client.post(f"/v1/families/{fid}/invitations", json={"email": "Kate@Example.com"},
                        headers=owner).get_json()["token"]
    look_alike = auth_header(f"{KELVIN}ate@example.com")
    refused = client.post("/v1/invitations/accept", json={"token": token}, headers=look_alike)
    assert refused.status_code == 401
    kate = auth_header("KATE@example.COM")
    joined = client.post("/v1/invitations/accept", json={"token": token}, headers=kate)
    assert joined.status_code == 200, joined.get_json()
