"""Authentication: JWT verification (Cognito, local dev issuer) into a ``Principal``."""

from __future__ import annotations

from service.auth.jwks import JwksCache, UnknownSigningKeyError, url_fetcher
from service.auth.verifier import JwtVerifier, TrustedIssuer

__all__ = ["JwksCache", "JwtVerifier", "TrustedIssuer", "UnknownSigningKeyError", "url_fetcher"]
