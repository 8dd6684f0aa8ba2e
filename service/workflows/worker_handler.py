"""The workflow worker Lambda: what the bank-sync state machines and the schedules invoke.

Event contract (``service.deployment_contract.WORKER_HANDLER``; the state machines are built
against it):

``{"action": "create", "connection_ref": "<uuid>", "trigger": "schedule"}``
    Record a run for an active connection that is due; ``{"run_id": ..., "skip": false}``, or
    ``{"run_id": null, "skip": true, "reason": ...}`` when it is not active, not due (the bank's
    unattended limit) or already has an unfinished run.
``{"action": "step", "run_id": ..., "step": ..., "retry_count": n, "execution": ...}``
    One attempt of one step (:meth:`StepWorker.handle`); the step's error is raised so the
    state machine's Retry matches its class name. Returns ``{"run_id": ..., "deferred": b}``:
    ``true`` when the step parked the run (or the run is already deferred), and the state
    machine then ends the execution ("Parked"). A failed run raises ``RunNotActiveError``.
``{"action": "fail", "run_id": ..., "step": ..., "error": {...}}``
    The Catch target (:meth:`StepWorker.fail`). Returns ``{"run_id": ...}``.
``{"action": "manifest"}``
    Write the JSON array ``[{"connection_ref": ...}, ...]`` of every active connection to
    ``SYNC_MANIFEST_BUCKET`` for the daily fan-out's distributed map; returns
    ``{"bucket", "key", "count"}``.
``{"action": "sweep"}``
    The run sweep (:func:`service.workflows.sweep.sweep_runs`, invoked every
    ``sync.sweep_interval_minutes`` by a schedule): fail bank-sync runs abandoned past their
    lease, resume deferred ones whose ``resume_at`` has passed (a Step Functions execution
    each, named after the deferral). Returns ``{"abandoned", "resumed", "launch_failed"}``
    counts; a launch that failed leaves its run deferred for the next sweep.
``{"action": "retention"}``
    Daily data retention (:func:`service.use_cases.retention.run_retention`, invoked by the
    ``retention.schedule`` of the stage): delete chat conversations past their retention and
    webhook event ids older than a week (long past the replay window), in bounded batches.
    Returns ``{"conversations_purged", "webhook_events_pruned"}`` counts; idempotent, so a
    retried or overlapping invocation deletes nothing twice.

Dependencies are built once per container, on the first event (nothing at import).
"""

# Imports inside functions are deliberate: they keep the Lambda cold start cheap.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from service.bootstrap import Services

_lock = threading.Lock()
_container: dict[str, Any] = {}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _services() -> Services:
    with _lock:
        if "services" not in _container:
            from service.bootstrap import Services
            from service.settings import Settings

            _container["services"] = Services(Settings.from_env())
        services: Services = _container["services"]
        return services


def _s3_client(services: Services) -> Any:
    with _lock:
        if "s3" not in _container:
            import boto3

            _container["s3"] = boto3.client("s3", region_name=services.settings.aws_region)
        return _container["s3"]


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """The Lambda entry point (``WORKER_HANDLER``)."""
    del context
    services = _services()
    return handle(event, services=services, s3_client=lambda: _s3_client(services))


def handle(
    event: Mapping[str, Any], *, services: Services, s3_client: Callable[[], Any],
    clock: Callable[[], datetime] = _utc_now,
) -> dict[str, Any]:
    """Dispatch one event (see the module doc); ``ValueError`` for an unknown action."""
    action = event.get("action")
    if action == "create":
        return _create(event, services, clock())
    if action in ("step", "fail"):
        from service.workflows.bank_sync import BANK_SYNC
        from service.workflows.runner import StepWorker

        worker = StepWorker(BANK_SYNC, services.bank_sync_steps(), store=services.run_store,
                            clock=clock)
        return worker.handle(event) if action == "step" else worker.fail(event)
    if action == "manifest":
        return _manifest(services, s3_client(), clock())
    if action == "sweep":
        from service.workflows.bank_sync import BANK_SYNC
        from service.workflows.sweep import sweep_runs

        return dict(sweep_runs(services.database, services.sync_launcher, definition=BANK_SYNC,
                               clock=clock).counts())
    if action == "retention":
        from datetime import timedelta

        from service.use_cases.retention import run_retention

        window = timedelta(seconds=services.settings.webhook_max_age_seconds)
        return dict(run_retention(services.database, webhook_max_age=window,
                                  clock=clock).counts())
    raise ValueError(f"unknown worker action {action!r}")


def _skip(reason: str) -> dict[str, Any]:
    return {"run_id": None, "skip": True, "reason": reason}


def _create(event: Mapping[str, Any], services: Services, now: datetime) -> dict[str, Any]:
    from service.repositories import connections
    from service.repositories.sync_runs import RunAlreadyActiveError
    from service.workflows.bank_sync import BANK_SYNC, bank_sync_input, default_window
    from service.workflows.launcher import new_run
    from service.workflows.store import RunStatus

    ref = str(event.get("connection_ref", ""))
    try:
        connection_id = UUID(ref)
    except ValueError:
        return _skip("unknown connection")
    view = connections.sync_view(services.database, connection_id)
    if view is None:
        return _skip("unknown connection")
    conn = view.connection
    if conn.status.value != "active":
        return _skip(f"the connection is {conn.status.value}")
    due = conn.next_unattended_sync_at
    if due is not None and due > now:
        return _skip(f"not due before {due.isoformat()} (the bank's unattended limit)")
    run_input = {**bank_sync_input(ref, default_window(now.date())),
                 "trigger": str(event.get("trigger", "schedule"))}
    run = new_run(BANK_SYNC, run_input, status=RunStatus.RUNNING, now=now)
    try:
        services.run_store.save(run)
    except RunAlreadyActiveError:
        return _skip("a sync of this connection is already running")
    return {"run_id": run.run_id, "skip": False}


def _manifest(services: Services, s3: Any, now: datetime) -> dict[str, Any]:
    from service.repositories import connections

    bucket = services.settings.sync_manifest_bucket
    if not bucket:
        raise RuntimeError("SYNC_MANIFEST_BUCKET is not set")
    refs = [{"connection_ref": str(cid)} for cid in
            connections.active_connection_ids(services.database)]
    key = f"bank-sync/manifests/{now:%Y-%m-%d}/{uuid.uuid4()}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(refs).encode(),
                  ContentType="application/json")
    return {"bucket": bucket, "key": key, "count": len(refs)}
