"""Fixtures of the platform tests: an app that never needs a database, and test issuers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from service import create_app
from service.settings import Settings

# Never connected: the platform tests exercise routes that do not touch the database.
UNUSED_DB_URL = "postgresql://nobody@127.0.0.1:1/none"
COGNITO_REGION = "eu-west-2"
COGNITO_POOL = "eu-west-2_TestPool1"
COGNITO_CLIENT = "test-app-client"
COGNITO_ISSUER = f"https://cognito-idp.{COGNITO_REGION}.amazonaws.com/{COGNITO_POOL}"


@pytest.fixture
def platform_settings(local_dir: Path) -> Settings:
    return Settings(runtime="local", database_url=UNUSED_DB_URL, local_dir=local_dir,
                    dev_issuer=True, log_level="WARNING")


@pytest.fixture
def platform_app(platform_settings: Settings) -> Iterator[Flask]:
    application = create_app(platform_settings)
    application.config["TESTING"] = True
    yield application


@dataclass
class SigningKey:
    """An RSA key pair playing a Cognito signing key."""

    kid: str
    private: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, Any]:
        public: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(
            self.private.public_key(), as_dict=True
        )
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass
class FakeCognito:
    """Issues Cognito-shaped tokens and serves a JWKS whose keys tests can rotate."""

    keys: list[SigningKey]
    published: list[SigningKey] = field(default_factory=list)
    fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": [key.jwk() for key in self.published]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": COGNITO_ISSUER,
            "sub": str(uuid.UUID(int=42)),
            "client_id": COGNITO_CLIENT,
            "token_use": "access",
            "email": "ann@example.com",
            "email_verified": True,
            "iat": now,
            "exp": now + 600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, key: SigningKey | None = None, headers: dict[str, Any] | None = None,
              **overrides: Any) -> str:
        signer = key or self.published[0]
        return jwt.encode(self.claims(**overrides), signer.private, algorithm="RS256",
                          headers={"kid": signer.kid, **(headers or {})})


@pytest.fixture(scope="session")
def rsa_keys() -> list[SigningKey]:
    return [
        SigningKey(kid=f"kid-{i}", private=rsa.generate_private_key(65537, 2048))
        for i in range(3)
    ]


@pytest.fixture
def fake_cognito(rsa_keys: list[SigningKey]) -> FakeCognito:
    return FakeCognito(keys=rsa_keys, published=[rsa_keys[0]])
