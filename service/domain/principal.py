"""The authenticated caller, as established by the auth layer from a verified JWT."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's issuer and subject identify them; email is verified."""

    issuer: str
    subject: str
    email: str
