"""Verified webhook events and the port that acts on them (one handler per event type).

A handler runs inside the inbox's transaction (:func:`service.webhooks.inbox.receive`), so its
database writes commit together with the event-id record or not at all. Handlers must be quick
(the provider waits for the answer) and must only *resume* or *record*: a webhook never starts
an unattended sync of its own, since each costs one of the bank's few daily unattended calls.

The hooks are constructor arguments so the composition root wires them to the bank-sync
vertical: ``record_consent`` writes a consent change on the connection, ``find_waiting_run``
finds the sync run polling a transactions request, and ``resume_run`` (the run launcher's)
lets that run continue. ``resume_run`` must be idempotent and only schedule work (start an
execution, hand the run to the local runner): a delivery whose transaction fails after it ran
is retried by the provider and resumes again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from service.db.port import Executor
from service.webhooks.errors import WebhookMalformedError

# Event types of TrueLayer's Data API v3 webhooks as we read its reference (the published
# excerpts show the payload fields, not the enum values): to be checked against TrueLayer's
# OpenAPI file before the first live delivery (README, "Webhooks").
TRANSACTIONS_REQUEST_COMPLETED = "transactions_request_completed"
TRANSACTIONS_REQUEST_FAILED = "transactions_request_failed"
CONNECTION_REVOKED = "data_connection_revoked"
CONNECTION_EXPIRED = "data_connection_expired"

MAX_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified delivery's event: its id, type and payload (ids only, never bank data)."""

    event_id: str
    type: str
    version: int | None
    payload: Mapping[str, Any]
    sent_at: datetime

    @classmethod
    def parse(cls, body: bytes, *, sent_at: datetime) -> WebhookEvent:
        """Read the event from a verified body.

        Raises
        ------
        WebhookMalformedError
            Not a JSON object, or ``event_id`` / ``type`` missing or not short strings.
        """
        try:
            payload = json.loads(body)
        except ValueError:
            raise WebhookMalformedError("The webhook body is not JSON.") from None
        if not isinstance(payload, dict):
            raise WebhookMalformedError("The webhook body must be a JSON object.")
        event_id, event_type = payload.get("event_id"), payload.get("type")
        for name, value in (("event_id", event_id), ("type", event_type)):
            if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
                raise WebhookMalformedError(f"The webhook body needs a string '{name}'.")
        version = payload.get("event_version")
        return cls(
            event_id=str(event_id),
            type=str(event_type),
            version=version if isinstance(version, int) else None,
            payload=payload,
            sent_at=sent_at,
        )

    def field(self, name: str) -> str:
        """A required string field of the payload.

        Raises
        ------
        WebhookMalformedError
            The field is missing or not a non-empty string.
        """
        value = self.payload.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
            raise WebhookMalformedError(f"A '{self.type}' event needs a string '{name}'.")
        return value


class WebhookHandler(Protocol):
    """Acts on one event inside the inbox transaction; returns a short outcome word."""

    def __call__(self, tx: Executor, event: WebhookEvent) -> str:
        """Handle ``event``; raise to roll everything back (the provider retries)."""
        ...


@dataclass(frozen=True, slots=True)
class RunAlreadyActive:
    """A finder's answer: a run knows the request but is not waiting (it has an execution,
    e.g. its poll step is retrying), so it must not be resumed a second time."""

    run_id: str


ConsentRecorder = Callable[[Executor, str, str, datetime], bool]
"""``(tx, provider_connection_id, status, at) -> found``: record ``revoked``/``expired``."""
RunFinder = Callable[[Executor, str, str, str], "str | RunAlreadyActive | None"]
"""``(tx, provider_connection_id, account_id, request_id) -> run id`` of the waiting run
(claimed in ``tx``), :class:`RunAlreadyActive`, or ``None`` when no run knows the request."""
ResumeRun = Callable[[str], None]
"""The run launcher's ``resume_run(run_id)``: lets a waiting run continue (idempotent)."""


class ConsentChangeHandler:
    """Records a revoked or expired consent on the connection (no provider call, no sync)."""

    def __init__(self, record_consent: ConsentRecorder, *, status: str) -> None:
        if status not in {"revoked", "expired"}:
            raise ValueError("status must be 'revoked' or 'expired'")
        self._record = record_consent
        self._status = status

    def __call__(self, tx: Executor, event: WebhookEvent) -> str:
        """Mark the connection; ``unknown_connection`` when it is not ours (or deleted)."""
        found = self._record(tx, event.field("connection_id"), self._status, event.sent_at)
        return f"consent_{self._status}" if found else "unknown_connection"


class TransactionsReadyHandler:
    """Resumes the sync run that polls a finished (completed or failed) transactions request.

    It only ever resumes a run that already exists and waits on that request; with none
    waiting it does nothing (it never starts a sync).
    """

    def __init__(self, find_waiting_run: RunFinder, resume_run: ResumeRun) -> None:
        self._find = find_waiting_run
        self._resume = resume_run

    def __call__(self, tx: Executor, event: WebhookEvent) -> str:
        """Resume the waiting run, if any; ``already_running`` when its execution is live."""
        found = self._find(
            tx, event.field("connection_id"), event.field("account_id"), event.field("request_id")
        )
        if found is None:
            return "no_waiting_run"
        if isinstance(found, RunAlreadyActive):
            return "already_running"
        self._resume(found)
        return "resumed"


class WebhookEvents:
    """The port: dispatches a verified event to the handler of its type.

    Parameters
    ----------
    handlers
        Handler per event type; a type without one is acknowledged and ignored.
    """

    def __init__(self, handlers: Mapping[str, WebhookHandler] | None = None) -> None:
        self._handlers = dict(handlers or {})

    @property
    def types(self) -> frozenset[str]:
        """The event types acted upon."""
        return frozenset(self._handlers)

    def dispatch(self, tx: Executor, event: WebhookEvent) -> str:
        """Run the event's handler in ``tx``; ``ignored`` for a type nobody handles."""
        handler = self._handlers.get(event.type)
        return "ignored" if handler is None else handler(tx, event)

    @classmethod
    def truelayer(
        cls,
        *,
        record_consent: ConsentRecorder | None = None,
        find_waiting_run: RunFinder | None = None,
        resume_run: ResumeRun | None = None,
    ) -> WebhookEvents:
        """TrueLayer's Data API events wired to the given hooks (unwired ones are ignored)."""
        handlers: dict[str, WebhookHandler] = {}
        if record_consent is not None:
            handlers[CONNECTION_REVOKED] = ConsentChangeHandler(record_consent, status="revoked")
            handlers[CONNECTION_EXPIRED] = ConsentChangeHandler(record_consent, status="expired")
        if find_waiting_run is not None and resume_run is not None:
            ready = TransactionsReadyHandler(find_waiting_run, resume_run)
            handlers[TRANSACTIONS_REQUEST_COMPLETED] = ready
            handlers[TRANSACTIONS_REQUEST_FAILED] = ready
        return cls(handlers)
