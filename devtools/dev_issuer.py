"""A local development token issuer with its own RSA key pair (never in Lambda).

The private key is generated into ``<local_dir>/dev-issuer-key.pem`` (gitignored, 0600).
Tokens look like Cognito access tokens (``token_use=access``, ``client_id``) plus an
``email`` claim, so the same verifier code path checks them.
"""

from __future__ import annotations

import string
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.auth.jwks import JwksCache
from service.auth.verifier import TrustedIssuer
from service.local_files import read_or_create
from service.settings import SettingsError, running_in_lambda

DEV_ISSUER = "http://localhost/dev-issuer"
DEV_CLIENT_ID = "local-dev-client"
KEY_FILE = "dev-issuer-key.pem"
MAX_LIFETIME = 12 * 3600  # a working day of `make dev` on one token
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_SUBJECT_NAMESPACE = uuid.UUID("0b8f0f5e-3c4a-4f0e-9a43-6d1c3f2b7a10")


class DevIssuerRefusedError(SettingsError):
    """The dev issuer was asked for inside Lambda."""


def _generate_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class DevIssuer:
    """Issues RS256 tokens for local runs and tests.

    Parameters
    ----------
    local_dir
        Directory holding the key file (created if missing).
    environ
        Environment to check for Lambda (defaults to ``os.environ``).

    Raises
    ------
    DevIssuerRefusedError
        When running in Lambda: a forgeable issuer must never be trusted there.
    """

    def __init__(self, local_dir: Path, *, environ: Mapping[str, str] | None = None) -> None:
        if running_in_lambda(environ):
            raise DevIssuerRefusedError("The development token issuer must never run in Lambda.")
        pem = read_or_create(local_dir / KEY_FILE, _generate_key_pem)
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise DevIssuerRefusedError(f"{local_dir / KEY_FILE} is not an RSA private key")
        self._key = key
        public_jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(
            key.public_key(), as_dict=True
        )
        self.kid = jwt.utils.base64url_encode(
            uuid.uuid5(_SUBJECT_NAMESPACE, str(public_jwk["n"])).bytes
        ).decode()
        self._jwk = {**public_jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document."""
        return {"keys": [dict(self._jwk)]}

    def trusted_issuer(self) -> TrustedIssuer:
        """How the verifier trusts this issuer (keys served from memory)."""
        return TrustedIssuer(
            issuer=DEV_ISSUER,
            client_id=DEV_CLIENT_ID,
            keys=JwksCache(self.jwks),
            token_uses=("access",),
            max_lifetime=MAX_LIFETIME,
        )

    @staticmethod
    def subject_for(email: str) -> str:
        """A stable subject per email so repeated tokens name the same user."""
        # Like an IdP: one user per address, ASCII letters case-insensitive, nothing folded
        # (a look-alike address is another user; the verifier decides whether to accept it).
        return str(uuid.uuid5(_SUBJECT_NAMESPACE, email.strip().translate(_ASCII_LOWER)))

    def issue(
        self,
        email: str,
        *,
        expires_in: int = 3600,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed access token for ``email``, valid ``expires_in`` seconds (at most 12 h)."""
        if not 0 < expires_in <= MAX_LIFETIME:
            raise ValueError(f"expires_in must be between 1 and {MAX_LIFETIME} seconds")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": DEV_ISSUER,
            "sub": self.subject_for(email),
            "client_id": DEV_CLIENT_ID,
            "token_use": "access",
            "email": email.strip(),
            "email_verified": True,
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
        }
        claims.update(extra_claims or {})
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})
