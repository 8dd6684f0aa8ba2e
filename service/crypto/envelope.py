"""AES-256-GCM sealing of small secrets (consent tokens) under a data key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.crypto.providers import NONCE_BYTES, KeyUnavailable, canonical_context


@dataclass(frozen=True, slots=True)
class SealedValue:
    """Ciphertext (with GCM tag) and its nonce, as stored in the database."""

    ciphertext: bytes
    nonce: bytes


def seal(data_key: bytes, plaintext: str, aad: Mapping[str, str]) -> SealedValue:
    """Encrypt ``plaintext`` under ``data_key`` with a fresh nonce, binding ``aad``."""
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext.encode(), canonical_context(aad))
    return SealedValue(ciphertext=ciphertext, nonce=nonce)


def open_sealed(data_key: bytes, sealed: SealedValue, aad: Mapping[str, str]) -> str:
    """Decrypt ``sealed``; raise :class:`KeyUnavailable` if key, nonce or AAD do not match."""
    try:
        plaintext = AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext,
                                             canonical_context(aad))
    except InvalidTag as exc:
        raise KeyUnavailable("sealed value does not decrypt under this key and context") from exc
    return plaintext.decode()
