"""Data key providers: where per-family data keys come from and how they are unwrapped."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient

DATA_KEY_BYTES = 32
NONCE_BYTES = 12


class KeyUnavailable(Exception):  # noqa: N818 - domain wording, not "...Error"
    """A data key could not be produced or unwrapped (wrong context, key destroyed...)."""


@dataclass(frozen=True, slots=True)
class DataKey:
    """A freshly generated data key: the plaintext (keep in memory only) and its wrapped form."""

    plaintext: bytes = field(repr=False)
    wrapped: bytes
    key_id: str
    provider: str


def canonical_context(context: Mapping[str, str]) -> bytes:
    """Deterministic bytes of an encryption context (sorted keys, compact JSON)."""
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


@runtime_checkable
class DataKeyProvider(Protocol):
    """Generates and unwraps 256-bit data keys bound to an encryption context."""

    @property
    def name(self) -> str:
        """Short provider name stored next to wrapped keys (``"kms"`` or ``"local"``)."""
        ...

    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        """Return a new data key wrapped under ``context``."""
        ...

    def decrypt_data_key(
        self, wrapped: bytes, *, key_id: str, context: Mapping[str, str]
    ) -> bytes:
        """Unwrap ``wrapped``; raise :class:`KeyUnavailable` if it cannot be unwrapped."""
        ...


class KmsDataKeyProvider:
    """Data keys from AWS KMS ``GenerateDataKey`` (AES_256) with an encryption context.

    Parameters
    ----------
    kms_client:
        A boto3 ``kms`` client (injected; never created at import).
    key_id:
        The customer-managed KMS key ARN (``TOKEN_KMS_KEY_ARN``).
    """

    def __init__(self, kms_client: KMSClient, key_id: str) -> None:
        self._kms = kms_client
        self._key_id = key_id

    @property
    def name(self) -> str:
        return "kms"

    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        try:
            out = self._kms.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=dict(context)
            )
        except Exception as exc:  # botocore ClientError and transport errors
            raise KeyUnavailable("KMS GenerateDataKey failed") from exc
        return DataKey(
            plaintext=out["Plaintext"],
            wrapped=out["CiphertextBlob"],
            key_id=out["KeyId"],
            provider=self.name,
        )

    def decrypt_data_key(
        self, wrapped: bytes, *, key_id: str, context: Mapping[str, str]
    ) -> bytes:
        try:
            out = self._kms.decrypt(
                CiphertextBlob=wrapped, KeyId=key_id, EncryptionContext=dict(context)
            )
        except Exception as exc:
            raise KeyUnavailable("KMS Decrypt failed") from exc
        return out["Plaintext"]


class LocalDataKeyProvider:
    """Data keys wrapped by a local 256-bit master key with AES-256-GCM (context as AAD).

    For laptops and tests. The master key must be kept out of the repository
    (the bootstrap generates it under ``.local/``).
    """

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != DATA_KEY_BYTES:
            raise ValueError("the local master key must be 32 bytes (AES-256)")
        self._aead = AESGCM(master_key)
        self._key_id = "local:" + hashlib.sha256(b"key-id:" + master_key).hexdigest()[:16]

    @property
    def name(self) -> str:
        return "local"

    @property
    def key_id(self) -> str:
        """Fingerprint of the master key (not secret)."""
        return self._key_id

    def generate_data_key(self, context: Mapping[str, str]) -> DataKey:
        plaintext = os.urandom(DATA_KEY_BYTES)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._aead.encrypt(nonce, plaintext, canonical_context(context))
        return DataKey(plaintext=plaintext, wrapped=wrapped, key_id=self._key_id,
                       provider=self.name)

    def decrypt_data_key(
        self, wrapped: bytes, *, key_id: str, context: Mapping[str, str]
    ) -> bytes:
        if key_id != self._key_id:
            raise KeyUnavailable("data key was wrapped by a different master key")
        nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, canonical_context(context))
        except InvalidTag as exc:
            raise KeyUnavailable("data key does not unwrap under this context") from exc
