"""Where wrapped per-family data keys live: the port and its two adapters.

* :mod:`~service.crypto.family_key_store.base`: :class:`FamilyKeyStore` (the port) and
  :class:`WrappedKey`.
* :mod:`~service.crypto.family_key_store.dynamodb`: :class:`DynamoDbFamilyKeyStore`, a
  table never backed up (Lambda), so deleting an item crypto-shreds a family.
* :mod:`~service.crypto.family_key_store.postgres`: :class:`PostgresFamilyKeyStore`, the
  ``family_keys`` table (laptops and tests; no backup guarantee).
"""

from __future__ import annotations

from service.crypto.family_key_store.base import FamilyKeyStore, WrappedKey
from service.crypto.family_key_store.dynamodb import DynamoDbFamilyKeyStore
from service.crypto.family_key_store.postgres import PostgresFamilyKeyStore

__all__ = ["DynamoDbFamilyKeyStore", "FamilyKeyStore", "PostgresFamilyKeyStore", "WrappedKey"]
