"""Open Banking connections: started here, completed by the bank's redirect, synced."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from flask import Blueprint

from service.api._deps import bank_context, viewer_ip
from service.api.schemas import (
    ConnectionCallbackQuery,
    ConnectionCompletedOut,
    ConnectionDeleteQuery,
    ConnectionList,
    ConnectionStartIn,
    ConnectionStartOut,
    SyncRunOut,
    SyncStartedOut,
)
from service.http import current_database, current_principal, endpoint
from service.http.context import current_services
from service.use_cases import connections as uc

bp = Blueprint("connections", __name__, url_prefix="/v1")


def _now() -> datetime:
    return datetime.now(UTC)


@endpoint(bp, "GET", "/families/<fid>/connections", response=ConnectionList,
          summary="List bank connections", tags=["connections"],
          responses={404: "Not a member"})
def list_connections(*, fid: UUID) -> dict[str, object]:
    """Status, consent expiry, last sync and the next allowed unattended sync of each
    connection the caller may see."""
    return {"items": uc.list_connections(current_database(), current_principal(), fid)}


@endpoint(bp, "POST", "/families/<fid>/connections", body=ConnectionStartIn,
          response=ConnectionStartOut, status=201, summary="Start connecting a bank",
          tags=["connections"],
          responses={403: "Children may not connect accounts", 404: "Not a member",
                     422: "Unknown provider", 503: "The provider is unavailable"})
def create_connection(*, fid: UUID, body: ConnectionStartIn) -> uc.ConnectionStarted:
    """Create the connection at the provider and return the consent link to send the user
    to; the bank redirects back to ``GET /v1/connections/callback``."""
    return uc.start_connection(current_database(), bank_context(), current_principal(), fid,
                               provider=body.provider, visibility=body.visibility,
                               user_ip=viewer_ip(), now=_now())


@endpoint(bp, "GET", "/connections/callback", query=ConnectionCallbackQuery,
          response=ConnectionCompletedOut, public=True,
          summary="Consent callback (the bank's redirect)", tags=["connections"],
          responses={400: "Invalid, expired or used state, or consent declined",
                     503: "The provider is unavailable"})
def connection_callback(*, query: ConnectionCallbackQuery) -> uc.ConnectionCompleted:
    """Authorised by the single-use consent state alone; completes the connection and
    starts its first sync."""
    params = {k: v for k, v in query.model_dump().items() if v is not None}
    return uc.complete_connection(current_database(), bank_context(), params,
                                  user_ip=viewer_ip(), now=_now())


@endpoint(bp, "POST", "/families/<fid>/connections/<cid>/reconfirm",
          response=ConnectionStartOut, status=201, summary="Reconfirm a bank consent",
          tags=["connections"],
          responses={403: "Children may not reconfirm", 404: "No such connection",
                     409: "The connection cannot be reconfirmed",
                     422: "The connection's provider is not offered by this deployment",
                     503: "The provider is unavailable"})
def reconfirm_connection(*, fid: UUID, cid: UUID) -> uc.ConnectionStarted:
    """Renew the 90-day consent: a fresh connection that replaces this one when the user
    completes it; its accounts keep their ids and history."""
    return uc.reconfirm_connection(current_database(), bank_context(), current_principal(),
                                   fid, cid, user_ip=viewer_ip(), now=_now())


@endpoint(bp, "DELETE", "/families/<fid>/connections/<cid>", query=ConnectionDeleteQuery,
          status=204, summary="Delete a bank connection", tags=["connections"],
          responses={403: "Children may not delete", 404: "No such connection",
                     503: "The provider is unavailable"})
def revoke_connection(*, fid: UUID, cid: UUID, query: ConnectionDeleteQuery) -> None:
    """Revoke at the provider and destroy the connection's sealed id; ``?data=delete`` also
    deletes its accounts, balances and transactions (``keep`` is the default)."""
    uc.delete_connection(current_database(), bank_context(), current_principal(), fid, cid,
                         delete_data=query.data == "delete")


@endpoint(bp, "POST", "/families/<fid>/connections/<cid>/syncs", response=SyncStartedOut,
          status=202, summary="Start a sync", tags=["connections"],
          responses={404: "No such connection", 409: "A sync is running, or the connection "
                     "needs reconfirming"})
def start_sync(*, fid: UUID, cid: UUID) -> dict[str, str]:
    """Sync now (the user is present, so the bank's unattended limit does not apply)."""
    run_id = uc.start_sync(current_database(), current_services().sync_launcher,
                           current_principal(), fid, cid, user_ip=viewer_ip(), now=_now())
    run = current_services().run_store.get(run_id)
    return {"run_id": run_id, "status": run.status.value if run else "pending"}


@endpoint(bp, "GET", "/families/<fid>/connections/<cid>/syncs/<rid>", response=SyncRunOut,
          summary="Read a sync run", tags=["connections"],
          responses={404: "No such connection or run"})
def get_sync_run(*, fid: UUID, cid: UUID, rid: UUID) -> dict[str, object]:
    """Status, attempts, counts and last error of each step."""
    run = uc.get_sync_run(current_database(), current_services().run_store,
                          current_principal(), fid, connection_id=cid, run_id=rid)
    return {
        "run_id": run.run_id, "workflow": run.workflow, "status": run.status.value,
        "started_at": run.started_at, "finished_at": run.finished_at,
        "resume_at": run.resume_at, "last_error": run.last_error,
        "steps": [{"name": s.name, "status": s.status.value, "attempts": s.attempts,
                   "counts": s.counts, "last_error": s.last_error,
                   "started_at": s.started_at, "finished_at": s.finished_at}
                  for s in run.steps],
    }
