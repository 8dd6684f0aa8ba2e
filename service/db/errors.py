"""Adapter errors more specific than the port's, all subclasses of its ``DatabaseError``."""

from __future__ import annotations

from service.db.port import DatabaseError


class StatementTimeout(DatabaseError):  # noqa: N818 - named like the port's errors
    """The statement ran longer than the allowed time and was cancelled."""


class TransactionExpired(DatabaseError):  # noqa: N818 - named like the port's errors
    """The transaction is unknown to the server, usually because it timed out.

    Data API transactions are rolled back after 3 minutes without a call (and
    after 24 hours in total); nothing of the transaction was committed.
    """
