"""Authentication: JWT verification (Cognito, local dev issuer) into a ``Principal``.

Attributes load on first use (PEP 562): PyJWT and cryptography cost a cold start about
150 ms, and only authenticated requests need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.auth.jwks import JwksCache, UnknownSigningKeyError, url_fetcher
    from service.auth.verifier import JwtVerifier, TrustedIssuer

__all__ = ["JwksCache", "JwtVerifier", "TrustedIssuer", "UnknownSigningKeyError", "url_fetcher"]

_HOMES = {
    "JwksCache": "service.auth.jwks",
    "UnknownSigningKeyError": "service.auth.jwks",
    "url_fetcher": "service.auth.jwks",
    "JwtVerifier": "service.auth.verifier",
    "TrustedIssuer": "service.auth.verifier",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'service.auth' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
