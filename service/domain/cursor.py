"""Opaque keyset cursors: base64url of a small JSON object, strictly validated on the way in."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any
from uuid import UUID

from service.domain.errors import ValidationFailedError

_MAX_CURSOR_LENGTH = 200
_MAX_BIGINT = 2**63 - 1  # sequence numbers are PostgreSQL bigint


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise ValidationFailedError("The cursor is not valid.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ValidationFailedError("The cursor is not valid.") from None
    if not isinstance(payload, dict):
        raise ValidationFailedError("The cursor is not valid.")
    return payload


def encode_transaction_cursor(booked_on: date, transaction_id: UUID) -> str:
    """Cursor positioned after the transaction ``(booked_on, id)`` in list order."""
    return _encode({"d": booked_on.isoformat(), "i": str(transaction_id)})


def decode_transaction_cursor(cursor: str) -> tuple[date, UUID]:
    """Inverse of :func:`encode_transaction_cursor`; ``ValidationFailedError`` (422) if tampered."""
    payload = _decode(cursor)
    if set(payload) != {"d", "i"} or not all(isinstance(v, str) for v in payload.values()):
        raise ValidationFailedError("The cursor is not valid.")
    try:
        return date.fromisoformat(payload["d"]), UUID(payload["i"])
    except ValueError:
        raise ValidationFailedError("The cursor is not valid.") from None


def encode_seq_cursor(seq: int) -> str:
    """Cursor positioned after the entry with sequence number ``seq`` (descending lists)."""
    return _encode({"s": seq})


def decode_seq_cursor(cursor: str) -> int:
    """Inverse of :func:`encode_seq_cursor`; ``ValidationFailedError`` (422) if tampered."""
    payload = _decode(cursor)
    seq = payload.get("s")
    if (set(payload) != {"s"} or not isinstance(seq, int) or isinstance(seq, bool)
            or not 1 <= seq <= _MAX_BIGINT):
        raise ValidationFailedError("The cursor is not valid.")
    return seq
