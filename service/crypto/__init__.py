"""Envelope encryption of consent tokens, and crypto-shredding that reaches backups.

Design
------
* **One data key per family.** A :class:`DataKeyProvider` generates it (KMS
  ``GenerateDataKey``, AES_256, encryption context ``{"family": <fid>}``) the first time
  the family seals a token (:meth:`FamilyKeyring.sealing_key`; concurrent first uses end
  with one key). Only the wrapped form is kept, in a :class:`FamilyKeyStore`.
* **Per-token sealing.** Each token is sealed with AES-256-GCM under the family's data
  key, with a fresh 96-bit nonce and additional authenticated data
  ``{"family", "connection", "field"}``, so a ciphertext copied to another connection,
  family or column does not decrypt. Only ciphertext and nonce are stored in PostgreSQL
  (``connections``).
* **Where wrapped keys live** (:mod:`service.crypto.family_key_store`). In Lambda:
  :class:`~service.crypto.family_key_store.DynamoDbFamilyKeyStore`, a dedicated
  DynamoDB table (``FAMILY_KEYS_TABLE_NAME``) with no point-in-time recovery and no
  backups by design. Locally: :class:`~service.crypto.family_key_store.PostgresFamilyKeyStore`
  (the ``family_keys`` table) - convenient, but it gives *no* backup guarantee.

Guarantee (Lambda)
------------------
Deleting a family deletes its item from the key store (``DeleteItem``) right *after*
the database transaction that deletes the family's rows and records ``family.delete``
and ``family.key.destroy`` in its audit chain has committed. From that moment:

* No copy of the wrapped data key exists anywhere: the key table is never backed up,
  and the Aurora database (live, snapshots, 35-day point-in-time recovery) never
  contained it. The KMS key is shared by all families and stays enabled, but it
  only unwraps a wrapped key someone still holds, and none is left.
* Therefore every token ciphertext of that family - in any Aurora backup or restore,
  of any age - is permanently undecryptable (:class:`KeyUnavailable`).

What backups still contain: the ciphertexts, nonces and token metadata of the
family's connections (and the rest of its non-token data) until they age out. They
do not contain any key material.
If the database part of a deletion fails, nothing changed: the family, its key and
its chain are as they were. If the shredding fails after the commit, the family is
gone for everyone and the owner's retry (recognised by its ``family.delete`` entry)
destroys the key again. A first use cannot race the deletion: keys are created only
by writes holding the live family row ``FOR SHARE``, which the deletion's
``FOR UPDATE`` waits for, and afterwards no write finds the family.

Providers: :class:`KmsDataKeyProvider` (AWS KMS, used in Lambda; tests use moto) and
:class:`LocalDataKeyProvider` (a local 256-bit master key wrapping data keys with
AES-256-GCM, context as AAD; laptops and tests only).
"""

from __future__ import annotations

from service.crypto.envelope import SealedValue, open_sealed, seal
from service.crypto.family_key_store import FamilyKeyStore, WrappedKey
from service.crypto.keyring import FamilyKeyring, family_key_context
from service.crypto.providers import (
    DataKey,
    DataKeyProvider,
    KeyUnavailable,
    KmsDataKeyProvider,
    LocalDataKeyProvider,
)

__all__ = [
    "DataKey",
    "DataKeyProvider",
    "FamilyKeyStore",
    "FamilyKeyring",
    "KeyUnavailable",
    "KmsDataKeyProvider",
    "LocalDataKeyProvider",
    "SealedValue",
    "WrappedKey",
    "family_key_context",
    "open_sealed",
    "seal",
]
