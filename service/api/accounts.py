"""Accounts and balances the caller may see."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint

from service.api.schemas import (
    AccountList,
    AccountOut,
    AccountPatch,
    BalanceList,
    BalanceOut,
    BalanceQuery,
    MoneyOut,
)
from service.domain.models import Visibility
from service.http import current_database, current_principal, endpoint
from service.use_cases import accounts as uc

bp = Blueprint("accounts", __name__, url_prefix="/v1")


def _out(view: uc.AccountView) -> AccountOut:
    a = view.account
    return AccountOut(id=a.id, family_id=a.family_id, holder_user_id=a.holder_user_id,
                      is_mine=view.is_mine, name=a.name, nickname=a.nickname,
                      type=a.type.value, currency=a.currency, visibility=a.visibility.value)


@endpoint(bp, "GET", "/families/<fid>/accounts", response=AccountList,
          summary="List accounts", tags=["accounts"], responses={404: "Not a member"})
def list_accounts(*, fid: UUID) -> AccountList:
    """Accounts the caller may see: their own, plus family-visible ones for owners and
    adults. Private accounts are visible to their holder only."""
    views = uc.list_accounts(current_database(), current_principal(), fid)
    return AccountList(items=[_out(v) for v in views])


@endpoint(bp, "GET", "/accounts/<aid>", response=AccountOut, summary="Get an account",
          tags=["accounts"], responses={404: "Not visible to the caller"})
def get_account(*, aid: UUID) -> AccountOut:
    """One account the caller may see."""
    return _out(uc.get_account(current_database(), current_principal(), aid))


@endpoint(bp, "PATCH", "/accounts/<aid>", body=AccountPatch, response=AccountOut,
          summary="Rename an account or change its visibility", tags=["accounts"],
          responses={403: "Not the holder (visibility) / not holder or owner (nickname)",
                     404: "Not visible to the caller"})
def patch_account(*, aid: UUID, body: AccountPatch) -> AccountOut:
    """Only the holder may change visibility; the holder or a family owner may set the
    nickname (``null`` clears it)."""
    changes = uc.AccountChanges(
        fields_set=frozenset(body.model_fields_set), nickname=body.nickname,
        visibility=None if body.visibility is None else Visibility(body.visibility),
    )
    return _out(uc.update_account(current_database(), current_principal(), aid, changes))


@endpoint(bp, "GET", "/accounts/<aid>/balances", query=BalanceQuery, response=BalanceList,
          summary="Balance history", tags=["accounts"],
          responses={404: "Not visible to the caller"})
def list_balances(*, aid: UUID, query: BalanceQuery) -> BalanceList:
    """Balances of the account, newest first."""
    found = uc.list_balances(current_database(), current_principal(), aid, limit=query.limit)
    return BalanceList(items=[BalanceOut(as_of=b.as_of, amount=MoneyOut.of(b.amount))
                              for b in found])
