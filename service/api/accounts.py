"""Accounts and balances the caller may see."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api._deps import audit_signer
from service.api.schemas import AccountList, AccountOut, AccountPatch, BalanceList, BalanceQuery
from service.http import current_database, current_principal, endpoint
from service.use_cases import accounts as uc

bp = Blueprint("accounts", __name__, url_prefix="/v1")


@endpoint(bp, "GET", "/families/<fid>/accounts", response=AccountList,
          summary="List accounts", tags=["accounts"], responses={404: "Not a member"})
def list_accounts(*, fid: UUID) -> dict[str, object]:
    """Accounts the caller may see: their own, plus family-visible ones for owners and
    adults. Private accounts are visible to their holder only."""
    return {"items": uc.list_accounts(current_database(), current_principal(), fid)}


@endpoint(bp, "GET", "/accounts/<aid>", response=AccountOut, summary="Get an account",
          tags=["accounts"], responses={404: "Not visible to the caller"})
def get_account(*, aid: UUID) -> uc.AccountView:
    """One account the caller may see."""
    return uc.get_account(current_database(), current_principal(), aid)


@endpoint(bp, "PATCH", "/accounts/<aid>", body=AccountPatch, response=AccountOut,
          summary="Rename an account or change its visibility", tags=["accounts"],
          responses={403: "Not the holder (visibility) / not holder or owner (nickname)",
                     404: "Not visible to the caller"})
def patch_account(*, aid: UUID, body: AccountPatch) -> uc.AccountView:
    """Only the holder may change visibility; the holder or a family owner may set the
    nickname (``null`` clears it)."""
    changes = uc.AccountChanges(fields_set=frozenset(body.model_fields_set),
                                nickname=body.nickname, visibility=body.visibility)
    return uc.update_account(current_database(), audit_signer(), current_principal(), aid,
                             changes)


@endpoint(bp, "GET", "/accounts/<aid>/balances", query=BalanceQuery, response=BalanceList,
          summary="Balance history", tags=["accounts"],
          responses={404: "Not visible to the caller"})
def list_balances(*, aid: UUID, query: BalanceQuery) -> dict[str, object]:
    """Balances of the account, newest first."""
    return {"items": uc.list_balances(current_database(), current_principal(), aid,
                                      limit=query.limit)}
