"""JWT verification: every rejection path, key rotation and the dev issuer's limits."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from devtools.dev_issuer import DEV_ISSUER, DevIssuer, DevIssuerRefusedError
from service.auth.jwks import JwksCache
from service.auth.verifier import JwtVerifier, TrustedIssuer
from service.errors import AuthenticationRequired
from service.settings import Settings, SettingsError
from tests.service.platform.conftest import (
    COGNITO_CLIENT,
    COGNITO_ISSUER,
    FakeCognito,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def verifier(fake_cognito: FakeCognito, clock: FakeClock) -> JwtVerifier:
    keys = JwksCache(fake_cognito.jwks, min_refresh_interval=60, clock=clock)
    return JwtVerifier([TrustedIssuer(COGNITO_ISSUER, COGNITO_CLIENT, keys)], leeway=5)


def _rejects(verifier: JwtVerifier, token: str, reason: str) -> None:
    with pytest.raises(AuthenticationRequired) as caught:
        verifier.verify(token)
    assert reason in str(caught.value.description)


def test_valid_access_token(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    principal = verifier.verify(fake_cognito.token(email="Ann@Example.COM"))
    assert principal.issuer == COGNITO_ISSUER
    assert principal.subject == fake_cognito.claims()["sub"]
    assert principal.email == "ann@example.com"


def test_valid_id_token(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    token = fake_cognito.token(token_use="id", client_id=None, aud=COGNITO_CLIENT,
                               email_verified=True)
    assert verifier.verify(token).email == "ann@example.com"


def test_expired(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    now = int(time.time())
    _rejects(verifier, fake_cognito.token(iat=now - 3600, exp=now - 60), "expired")


def test_not_yet_valid(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    _rejects(verifier, fake_cognito.token(nbf=int(time.time()) + 600), "not valid yet")


def test_wrong_issuer(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    other = "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Other"
    _rejects(verifier, fake_cognito.token(iss=other), "issuer")


def test_wrong_client_for_access_token(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    _rejects(verifier, fake_cognito.token(client_id="someone-else"), "another client")


def test_wrong_audience_for_id_token(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    token = fake_cognito.token(token_use="id", client_id=None, aud="someone-else")
    _rejects(verifier, token, "another client")


def test_access_token_cannot_pass_client_as_audience(
    verifier: JwtVerifier, fake_cognito: FakeCognito
) -> None:
    _rejects(verifier, fake_cognito.token(client_id=None, aud=COGNITO_CLIENT), "another client")


def test_wrong_token_use(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    _rejects(verifier, fake_cognito.token(token_use="refresh"), "use")


def test_missing_token_use(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    _rejects(verifier, fake_cognito.token(token_use=None), "invalid")


def test_missing_email(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    _rejects(verifier, fake_cognito.token(email=None), "email")


def test_unverified_email(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    _rejects(verifier, fake_cognito.token(email_verified=False), "not verified")


def test_bad_signature(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    # Signed by an unpublished key but claiming the published key's kid.
    forged = fake_cognito.token(key=fake_cognito.keys[2],
                                headers={"kid": fake_cognito.published[0].kid})
    _rejects(verifier, forged, "signature")


def test_tampered_payload(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    header, _payload, signature = fake_cognito.token().split(".")
    other_payload = fake_cognito.token(email="mallory@example.com").split(".")[1]
    _rejects(verifier, f"{header}.{other_payload}.{signature}", "signature")


def test_hs256_and_none_rejected(verifier: JwtVerifier, fake_cognito: FakeCognito) -> None:
    claims = fake_cognito.claims()
    hs = jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"kid": "kid-0"})
    _rejects(verifier, hs, "algorithm")
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "kid-0"})
    _rejects(verifier, unsigned, "algorithm")


def test_garbage_token(verifier: JwtVerifier) -> None:
    _rejects(verifier, "not.a.jwt", "malformed")


def test_rotation_refetches_on_unknown_kid(
    verifier: JwtVerifier, fake_cognito: FakeCognito, clock: FakeClock
) -> None:
    assert verifier.verify(fake_cognito.token())  # first use fetches
    assert fake_cognito.fetches == 1
    new_key = fake_cognito.keys[1]
    fake_cognito.published = [fake_cognito.keys[0], new_key]  # issuer rotates in a new key
    token = fake_cognito.token(key=new_key)
    # Within the rate-limit window the unknown kid is not refetched ...
    _rejects(verifier, token, "unknown")
    assert fake_cognito.fetches == 1
    # ... after it, one refetch finds the new key; old key keeps working from the cache.
    clock.now += 61
    assert verifier.verify(token).email == "ann@example.com"
    assert verifier.verify(fake_cognito.token()).email == "ann@example.com"
    assert fake_cognito.fetches == 2


def test_random_kids_cannot_hammer_the_issuer(
    verifier: JwtVerifier, fake_cognito: FakeCognito, clock: FakeClock
) -> None:
    verifier.verify(fake_cognito.token())
    for i in range(20):
        _rejects(verifier, fake_cognito.token(headers={"kid": f"random-{i}"}), "unknown")
    assert fake_cognito.fetches == 1


def test_cached_keys_expire_after_max_age(fake_cognito: FakeCognito, clock: FakeClock) -> None:
    keys = JwksCache(fake_cognito.jwks, min_refresh_interval=60, max_age=3600, clock=clock)
    keys.get("kid-0")
    keys.get("kid-0")
    assert fake_cognito.fetches == 1
    clock.now += 3600
    keys.get("kid-0")
    assert fake_cognito.fetches == 2


def test_dev_issuer_tokens_verify_only_with_dev_trust(
    local_dir: Path, verifier: JwtVerifier
) -> None:
    issuer = DevIssuer(local_dir)
    token = issuer.issue("Dev@Example.com")
    _rejects(verifier, token, "issuer")  # a Cognito-only verifier does not trust it
    dev_verifier = JwtVerifier([issuer.trusted_issuer()])
    principal = dev_verifier.verify(token)
    assert principal.issuer == DEV_ISSUER
    assert principal.subject == DevIssuer.subject_for("dev@example.com")


def test_dev_issuer_key_is_private_and_stable(local_dir: Path) -> None:
    first, second = DevIssuer(local_dir), DevIssuer(local_dir)
    assert first.kid == second.kid
    assert (local_dir / "dev-issuer-key.pem").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "env", [{"AWS_LAMBDA_FUNCTION_NAME": "api"}, {"SERVICE_RUNTIME": "lambda"}]
)
def test_dev_issuer_refused_in_lambda(
    local_dir: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(DevIssuerRefusedError):
        DevIssuer(local_dir)
    with pytest.raises(SettingsError, match="never run in Lambda"):
        Settings.from_env({**env, "DEV_ISSUER": "true"})
    with pytest.raises(SettingsError, match="never run in Lambda"):
        Settings(runtime="local", dev_issuer=True, local_dir=local_dir).check()


def test_lambda_settings_default_to_no_dev_issuer() -> None:
    env = {
        "SERVICE_RUNTIME": "lambda",
        "DB_CLUSTER_ARN": "arn:aws:rds:eu-west-2:123456789012:cluster:c",
        "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:123456789012:secret:s",
        "TOKEN_KMS_KEY_ARN": "arn:aws:kms:eu-west-2:123456789012:key/k",
        "FAMILY_KEYS_TABLE_NAME": "family-keys",
        "COGNITO_USER_POOL_ID": "eu-west-2_Pool",
        "COGNITO_CLIENT_ID": "client",
        "COGNITO_REGION": "eu-west-2",
    }
    settings = Settings.from_env(env)
    assert settings.is_lambda and not settings.dev_issuer
    assert settings.cognito_issuer == "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_Pool"
    incomplete = {k: v for k, v in env.items() if k != "TOKEN_KMS_KEY_ARN"}
    with pytest.raises(SettingsError, match="TOKEN_KMS_KEY_ARN"):
        Settings.from_env(incomplete)
