"""The HMAC keys of the audit chain: a secret the database never holds.

In AWS the keys live in one Secrets Manager secret (``AUDIT_KEY_SECRET_ARN``) whose
``SecretString`` is JSON::

    {"current": "2026-06", "keys": {"2026-06": "<base64 32 bytes>", "2025-12": "<...>"}}

New entries are keyed with ``current``; every entry records its ``key_id``, so entries
keyed with older versions still verify after a rotation (a rotation adds a key and moves
``current``, it never removes one). The secret is read once per Lambda container
(Powertools ``parameters``), at the first audited write.

Locally the key comes from ``AUDIT_DEV_KEY`` (base64) or a file under ``.local/``
(created on first use, mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service.local_files import read_or_create

KEY_BYTES = 32
LOCAL_KEY_FILE = "audit.key"


class AuditKeyError(ValueError):
    """The audit key material is missing or malformed."""


@dataclass(frozen=True, slots=True)
class AuditKeys:
    """Every known key version by id, and the id new entries are keyed with.

    Parameters
    ----------
    current
        The key id used for new entries; must be in ``keys``.
    keys
        Key id -> key bytes (at least 32 bytes each).
    """

    current: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise AuditKeyError(f"current audit key {self.current!r} is not among the keys")
        if any(len(key) < KEY_BYTES for key in self.keys.values()):
            raise AuditKeyError(f"audit keys must be at least {KEY_BYTES} bytes")

    def mac(self, key_id: str, message: bytes) -> str:
        """HMAC-SHA256 of ``message`` under key ``key_id``, lowercase hex.

        Raises
        ------
        KeyError
            ``key_id`` is unknown (an entry keyed with a key this service never had).
        """
        return hmac.new(self.keys[key_id], message, hashlib.sha256).hexdigest()

    @classmethod
    def single(cls, key: bytes) -> AuditKeys:
        """One key, named by a fingerprint (local runs, tests)."""
        key_id = "local-" + hashlib.sha256(b"audit-key-id" + key).hexdigest()[:12]
        return cls(current=key_id, keys={key_id: key})

    @classmethod
    def generate(cls) -> AuditKeys:
        """A fresh random key (tests)."""
        return cls.single(os.urandom(KEY_BYTES))

    @classmethod
    def from_secret_string(cls, text: str) -> AuditKeys:
        """Parse the secret's JSON (see the module docstring)."""
        try:
            document = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True)
                    for k, v in dict(document["keys"]).items()}
            return cls(current=str(document["current"]), keys=keys)
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise AuditKeyError("the audit key secret is not valid key JSON") from error


def local_audit_keys(local_dir: Path, dev_key: str | None) -> AuditKeys:
    """Local mode: ``dev_key`` (base64, e.g. from ``AUDIT_DEV_KEY``) or ``local_dir/audit.key``."""
    if dev_key:
        try:
            return AuditKeys.single(base64.b64decode(dev_key, validate=True))
        except binascii.Error as error:
            raise AuditKeyError("AUDIT_DEV_KEY must be base64") from error
    key = read_or_create(local_dir / LOCAL_KEY_FILE, lambda: os.urandom(KEY_BYTES))
    return AuditKeys.single(key)
