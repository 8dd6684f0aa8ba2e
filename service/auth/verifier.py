"""Verify bearer JWTs (Cognito or the local dev issuer) into a :class:`Principal`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from service.auth.emails import UnsupportedEmailError, canonical_email
from service.auth.jwks import JwksCache, UnknownSigningKeyError
from service.domain.principal import Principal
from service.errors import AuthenticationRequired

ALGORITHM = "RS256"
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "token_use"]
# Cognito's longest ID/access token validity is one day; our pool issues 15-minute tokens.
DEFAULT_MAX_LIFETIME = 3600


@dataclass(frozen=True)
class TrustedIssuer:
    """One issuer whose tokens we accept.

    Attributes
    ----------
    issuer
        Exact ``iss`` value.
    client_id
        App client id: ``client_id`` claim of access tokens, ``aud`` of id tokens.
    keys
        The issuer's signing keys.
    token_uses
        Accepted ``token_use`` values (Cognito: ``access`` and/or ``id``).
    max_lifetime
        Longest accepted ``exp - iat`` in seconds: a stolen token stays usable no longer,
        whatever expiry its issuer (or a forger with a leaked key) wrote into it.
    """

    issuer: str
    client_id: str
    keys: JwksCache
    token_uses: tuple[str, ...] = ("access", "id")
    max_lifetime: int = DEFAULT_MAX_LIFETIME


class JwtVerifier:
    """Checks signature (RS256 only), issuer, client, ``token_use``, time claims and e-mail.

    Time: ``exp`` and ``iat`` are required integers, ``iat`` not in the future and
    ``exp - iat`` at most the issuer's ``max_lifetime``. E-mail: ``email_verified`` must be
    the JSON boolean ``true`` (not ``"true"``, ``1`` or absent) and the address is put in
    its one canonical form (:func:`service.auth.emails.canonical_email`).

    Parameters
    ----------
    issuers
        Trusted issuers; a token naming any other ``iss`` is rejected before key lookup.
    leeway
        Seconds of clock skew tolerated on ``exp``/``iat``/``nbf``.
    """

    def __init__(self, issuers: Sequence[TrustedIssuer], *, leeway: int = 30) -> None:
        self._issuers = {trusted.issuer: trusted for trusted in issuers}
        self._leeway = leeway

    def verify(self, token: str) -> Principal:
        """The principal named by a valid token.

        Raises
        ------
        AuthenticationRequired
            For any invalid token; the message says why without echoing the token.
        """
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthenticationRequired("The bearer token is malformed.") from None
        if header.get("alg") != ALGORITHM:
            raise AuthenticationRequired("The token's signing algorithm is not accepted.")
        trusted = self._issuers.get(str(unverified.get("iss")))
        if trusted is None:
            raise AuthenticationRequired("The token's issuer is not trusted.")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise AuthenticationRequired("The token has no key id.")
        try:
            key = trusted.keys.get(kid)
        except UnknownSigningKeyError:
            raise AuthenticationRequired("The token's signing key is unknown.") from None
        claims = self._decode(token, key, trusted)
        self._check_lifetime(claims, trusted)
        return self._principal(claims, trusted)

    def _check_lifetime(self, claims: dict[str, Any], trusted: TrustedIssuer) -> None:
        issued, expires = claims.get("iat"), claims.get("exp")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (issued, expires)):
            raise AuthenticationRequired("The token's iat and exp must be whole seconds.")
        assert isinstance(issued, int) and isinstance(expires, int)
        if expires - issued > trusted.max_lifetime:
            raise AuthenticationRequired(
                f"The token's lifetime exceeds {trusted.max_lifetime} seconds."
            )

    def _decode(self, token: str, key: jwt.PyJWK, trusted: TrustedIssuer) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                issuer=trusted.issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS, "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationRequired("The token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise AuthenticationRequired("The token is not valid yet.") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationRequired("The token's signature is invalid.") from None
        except jwt.PyJWTError:
            raise AuthenticationRequired("The token is invalid.") from None
        return claims

    def _principal(self, claims: dict[str, Any], trusted: TrustedIssuer) -> Principal:
        token_use = claims.get("token_use")
        if token_use not in trusted.token_uses:
            raise AuthenticationRequired("The token's use is not accepted.")
        if token_use == "access":  # noqa: S105 (a claim value, not a password)
            client_ok = claims.get("client_id") == trusted.client_id
        else:
            audience = claims.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            client_ok = trusted.client_id in audiences
        if not client_ok:
            raise AuthenticationRequired("The token was issued to another client.")
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise AuthenticationRequired("The token carries no email claim.")
        if claims.get("email_verified") is not True:
            raise AuthenticationRequired("The token's email is not verified.")
        try:
            email = canonical_email(email)
        except UnsupportedEmailError as exc:
            raise AuthenticationRequired(f"The token's email is not accepted: {exc}.") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthenticationRequired("The token has no subject.")
        return Principal(issuer=trusted.issuer, subject=subject, email=email)
