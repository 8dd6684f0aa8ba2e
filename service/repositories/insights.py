"""SQL of money insights: rules, recurring series and decisions, spending, runway inputs,
and the trusted post-sync refresh.

Reads are one scoped statement each (see :mod:`service.repositories.scope`): the caller's
visibility of accounts decides which transactions, series and balances they cover. A series
is visible when every account it was seen on is visible to the caller. Writes by members
follow the write pattern (lock statement, then the change with its audit entries).
The refresh path (:func:`load_refresh_snapshot` and the ``write_*`` functions) is the
sync worker's: it is trusted with a family id and never runs for a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from service.audit.chain import ChainHead, SealedEntry
from service.db.port import Executor, Json, Params, Row, SqlValue
from service.domain.models import Membership
from service.domain.principal import Principal
from service.repositories.audit import append_ctes, head_of
from service.repositories.scope import (
    SCOPE,
    SCOPE_COLUMNS,
    VISIBLE_ACCOUNTS,
    caller_params,
    family_params,
    lock_statement,
    scope_of,
)

Decision = Literal["confirmed", "dismissed"]

#: The caller may change the family's insights settings (``scope`` CTE).
_MAY_CONFIGURE = "EXISTS (SELECT 1 FROM scope WHERE role IN ('owner', 'adult'))"

_RULE_COLUMNS = """r.id, r.category_id, r.priority, r.merchant, r.text_contains,
                   r.min_amount_minor, r.max_amount_minor, r.direction, r.created_at,
                   r.updated_at"""

_SERIES_COLUMNS = """rs.id, rs.direction, rs.merchant, rs.category_id, rs.frequency,
    rs.currency, rs.average_amount_minor, rs.min_amount_minor, rs.max_amount_minor,
    rs.last_amount_minor, rs.first_date, rs.last_date, rs.next_date, rs.next_amount_minor,
    rs.schedule_shift, rs.schedule_anchor, rs.schedule_day, rs.schedule_position, rs.status,
    rs.explanation, rs.internal_transfer, rs.transaction_ids, rs.account_ids, rs.detected_on"""


def _series_visible_to(alias: str, user: str, role: str, family: str) -> str:
    """Every account of series ``alias`` is an account of the family the caller may see."""
    return f"""NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements_text({alias}.account_ids) sa(account_id)
        WHERE NOT EXISTS (
            SELECT 1 FROM accounts a
            WHERE a.id = CAST(sa.account_id AS uuid) AND a.family_id = {family}
              AND (a.holder_user_id = {user}
                   OR ({role} IN ('owner', 'adult') AND a.visibility = 'family'))))"""  # noqa: S608


# -- rules ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """A family's categorisation rule (amount bounds in minor units of the absolute amount)."""

    id: UUID
    category: str
    priority: int
    merchant: str | None
    text: str | None
    min_amount_minor: int | None
    max_amount_minor: int | None
    direction: Literal["inflow", "outflow"] | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RuleFields:
    """What a rule says (created whole; an update replaces every field)."""

    category: str
    priority: int
    merchant: str | None
    text: str | None
    min_amount_minor: int | None
    max_amount_minor: int | None
    direction: Literal["inflow", "outflow"] | None


def _rule(row: Row) -> CategoryRule:
    return CategoryRule(
        id=row["id"], category=row["category_id"], priority=int(row["priority"]),
        merchant=row["merchant"], text=row["text_contains"],
        min_amount_minor=None if row["min_amount_minor"] is None else int(row["min_amount_minor"]),
        max_amount_minor=None if row["max_amount_minor"] is None else int(row["max_amount_minor"]),
        direction=row["direction"], created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _rule_params(fields: RuleFields) -> dict[str, SqlValue]:
    return {"category_id": fields.category, "priority": fields.priority,
            "merchant": fields.merchant, "text_contains": fields.text,
            "min_amount_minor": fields.min_amount_minor,
            "max_amount_minor": fields.max_amount_minor, "direction": fields.direction}


def list_rules(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Membership | None, list[CategoryRule]]:
    """The caller's scope (``None``: not a member) and the family's rules, highest priority
    first (ties: oldest first), in one statement."""
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, {_RULE_COLUMNS}
            FROM scope s LEFT JOIN category_rules r ON r.family_id = s.family_id
            ORDER BY r.priority DESC, r.created_at, r.id""",  # noqa: S608
        family_params(principal, family_id),
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [_rule(r) for r in rows if r["id"] is not None]


def lock_rule(
    ex: Executor, principal: Principal, family_id: UUID, rule_id: UUID
) -> tuple[Membership, ChainHead, CategoryRule | None] | None:
    """The caller's scope, the locked audit head and the rule (``None`` if the family has no
    such rule); ``None`` when the caller is not a member of the live family."""
    row = ex.fetch_one(
        lock_statement(
            columns=_RULE_COLUMNS,
            joins="LEFT JOIN category_rules r ON r.family_id = m.family_id AND r.id = :rule_id",
            where="AND m.family_id = :scope_family_id",
        ),
        {**family_params(principal, family_id), "rule_id": rule_id},
    )
    if row is None:
        return None
    return scope_of(row), head_of(row), None if row["id"] is None else _rule(row)


def create_rule(
    ex: Executor, principal: Principal, scope: Membership, fields: RuleFields,
    entries: Sequence[SealedEntry], *, rule_id: UUID,
) -> CategoryRule | None:
    """Insert a rule (owners and adults) and audit it, in one statement."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                INSERT INTO category_rules AS r (id, family_id, category_id, priority, merchant,
                    text_contains, min_amount_minor, max_amount_minor, direction, created_by)
                SELECT :rule_id, s.family_id, :category_id, :priority, :merchant,
                       :text_contains, :min_amount_minor, :max_amount_minor, :direction,
                       s.user_id
                FROM scope s WHERE s.role IN ('owner', 'adult')
                RETURNING {_RULE_COLUMNS}),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "rule_id": rule_id,
         **_rule_params(fields), **audit_params},
    )
    return None if row is None else _rule(row)


def update_rule(
    ex: Executor, principal: Principal, scope: Membership, rule_id: UUID, *,
    fields: RuleFields, entries: Sequence[SealedEntry],
) -> CategoryRule | None:
    """Replace a rule's fields (owners and adults) and audit it, in one statement."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                UPDATE category_rules r SET category_id = :category_id, priority = :priority,
                    merchant = :merchant, text_contains = :text_contains,
                    min_amount_minor = :min_amount_minor, max_amount_minor = :max_amount_minor,
                    direction = :direction, updated_at = now()
                WHERE r.id = :rule_id AND r.family_id = :scope_family_id AND {_MAY_CONFIGURE}
                RETURNING {_RULE_COLUMNS}),
            {audit}
            SELECT * FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "rule_id": rule_id,
         **_rule_params(fields), **audit_params},
    )
    return None if row is None else _rule(row)


def delete_rule(
    ex: Executor, principal: Principal, scope: Membership, rule_id: UUID,
    entries: Sequence[SealedEntry],
) -> bool:
    """Delete a rule (owners and adults) and audit it; ``True`` if it was deleted."""
    audit, audit_params = append_ctes(entries)
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS (
                DELETE FROM category_rules r
                WHERE r.id = :rule_id AND r.family_id = :scope_family_id AND {_MAY_CONFIGURE}
                RETURNING r.id),
            {audit}
            SELECT count(*) AS n FROM change""",  # noqa: S608
        {**family_params(principal, scope.family_id), "rule_id": rule_id, **audit_params},
    )
    return row is not None and int(row["n"]) == 1


# -- recurring series ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredSeries:
    """A recurring series as the last refresh detected it, with the members' decision."""

    id: str
    direction: Literal["inflow", "outflow"]
    merchant: str
    category: str | None
    frequency: str
    currency: str
    average_amount_minor: int
    min_amount_minor: int
    max_amount_minor: int
    last_amount_minor: int
    first_date: date
    last_date: date
    next_date: date | None
    next_amount_minor: int | None
    schedule_shift: str
    schedule_anchor: date | None
    schedule_day: int | None
    schedule_position: int
    status: Literal["active", "ended"]
    explanation: str
    internal_transfer: bool
    transaction_ids: tuple[str, ...]
    account_ids: tuple[str, ...]
    detected_on: date
    decision: Decision | None = None


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def series_from_row(row: dict[str, Any]) -> StoredSeries:
    """A series from a row (or its ``to_jsonb`` form: dates as strings)."""
    first, last = _as_date(row["first_date"]), _as_date(row["last_date"])
    detected = _as_date(row["detected_on"])
    assert first is not None and last is not None and detected is not None
    return StoredSeries(
        id=row["id"], direction=row["direction"], merchant=row["merchant"],
        category=row["category_id"], frequency=row["frequency"], currency=row["currency"],
        average_amount_minor=int(row["average_amount_minor"]),
        min_amount_minor=int(row["min_amount_minor"]),
        max_amount_minor=int(row["max_amount_minor"]),
        last_amount_minor=int(row["last_amount_minor"]), first_date=first, last_date=last,
        next_date=_as_date(row["next_date"]), next_amount_minor=_int(row["next_amount_minor"]),
        schedule_shift=row["schedule_shift"], schedule_anchor=_as_date(row["schedule_anchor"]),
        schedule_day=_int(row["schedule_day"]), schedule_position=int(row["schedule_position"]),
        status=row["status"], explanation=row["explanation"],
        internal_transfer=bool(row["internal_transfer"]),
        transaction_ids=tuple(row["transaction_ids"]), account_ids=tuple(row["account_ids"]),
        detected_on=detected, decision=row.get("decision"),
    )


def list_series(
    ex: Executor, principal: Principal, family_id: UUID
) -> tuple[Membership | None, list[StoredSeries]]:
    """The caller's scope and the visible series (active first, then by merchant)."""
    visible = _series_visible_to("rs", "s.user_id", "s.role", "s.family_id")
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, p.*
            FROM scope s LEFT JOIN LATERAL (
                SELECT {_SERIES_COLUMNS}, d.decision
                FROM recurring_series rs
                LEFT JOIN recurring_decisions d
                       ON d.family_id = rs.family_id AND d.series_id = rs.id
                WHERE rs.family_id = s.family_id AND {visible}) p ON true
            ORDER BY p.status, lower(p.merchant), p.id""",  # noqa: S608
        family_params(principal, family_id),
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [series_from_row(r) for r in rows if r["id"] is not None]


def lock_series(
    ex: Executor, principal: Principal, series_id: str
) -> tuple[Membership, ChainHead, StoredSeries] | None:
    """A series visible to the caller, with their scope and the family locked for a write."""
    visible = _series_visible_to("rs", "m.user_id", "m.role", "m.family_id")
    row = ex.fetch_one(
        lock_statement(
            columns=f"{_SERIES_COLUMNS}, d.decision",
            joins="""JOIN recurring_series rs ON rs.family_id = m.family_id AND rs.id = :series_id
                     LEFT JOIN recurring_decisions d
                            ON d.family_id = rs.family_id AND d.series_id = rs.id""",
            where=f"AND {visible}",
        ),
        {**caller_params(principal), "series_id": series_id},
    )
    if row is None:
        return None
    return scope_of(row), head_of(row), series_from_row(row)


def decide_series(
    ex: Executor, principal: Principal, scope: Membership, series_id: str, *,
    decision: Decision | None, entries: Sequence[SealedEntry],
) -> bool:
    """Record (``None``: withdraw) the caller's decision on a series and audit it."""
    audit, audit_params = append_ctes(entries)
    if decision is None:
        change = f"""DELETE FROM recurring_decisions d
                     WHERE d.family_id = :scope_family_id AND d.series_id = :series_id
                       AND {_MAY_CONFIGURE}
                     RETURNING d.series_id"""  # noqa: S608
    else:
        change = """INSERT INTO recurring_decisions (family_id, series_id, decision, decided_by)
                    SELECT s.family_id, :series_id, :decision, s.user_id
                    FROM scope s WHERE s.role IN ('owner', 'adult')
                    ON CONFLICT (family_id, series_id) DO UPDATE
                        SET decision = EXCLUDED.decision, decided_by = EXCLUDED.decided_by,
                            decided_at = now()
                    RETURNING series_id"""
    row = ex.fetch_one(
        f"""WITH {SCOPE},
            change AS ({change}),
            {audit}
            SELECT count(*) AS n FROM scope""",  # noqa: S608
        {**family_params(principal, scope.family_id), "series_id": series_id,
         "decision": decision, **audit_params},
    )
    return row is not None and int(row["n"]) == 1


# -- spending and runway ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpendingRow:
    """Totals of one category in one period and currency (minor units, both positive)."""

    period_start: date
    category: str | None
    currency: str
    outflow_minor: int
    inflow_minor: int
    count: int


def spending(
    ex: Executor, principal: Principal, family_id: UUID, *, unit: str, start: date, end: date
) -> tuple[Membership | None, list[SpendingRow]]:
    """Visible transactions booked in ``[start, end]`` summed by ``unit`` (``week``,
    ``month``, ``quarter``, ``year``), category and currency; transfers between the family's
    own accounts are left out. One statement."""
    if unit not in {"week", "month", "quarter", "year"}:
        raise ValueError(f"unknown period unit {unit!r}")
    rows = ex.fetch_all(
        f"""WITH {SCOPE}, {VISIBLE_ACCOUNTS}
            SELECT {SCOPE_COLUMNS}, p.*
            FROM scope s LEFT JOIN LATERAL (
                SELECT CAST(date_trunc(CAST(:unit AS text), CAST(t.booked_on AS timestamp))
                            AS date) AS period_start,
                       t.category_id, t.currency,
                       sum(CASE WHEN t.amount_minor < 0 THEN -t.amount_minor ELSE 0 END)
                           AS outflow_minor,
                       sum(CASE WHEN t.amount_minor > 0 THEN t.amount_minor ELSE 0 END)
                           AS inflow_minor,
                       count(*) AS n
                FROM transactions t JOIN visible_accounts va ON va.id = t.account_id
                WHERE t.family_id = s.family_id AND t.booked_on BETWEEN :start AND :end
                  AND t.category_source IS DISTINCT FROM 'transfer'
                GROUP BY 1, 2, 3) p ON true
            ORDER BY p.period_start, p.currency, p.category_id""",  # noqa: S608
        {**family_params(principal, family_id), "unit": unit, "start": start, "end": end},
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [
        SpendingRow(period_start=r["period_start"], category=r["category_id"],
                    currency=r["currency"], outflow_minor=int(r["outflow_minor"]),
                    inflow_minor=int(r["inflow_minor"]), count=int(r["n"]))
        for r in rows if r["period_start"] is not None
    ]


@dataclass(frozen=True, slots=True)
class RunwayInputs:
    """What a runway projection needs, over the caller-visible current and savings accounts
    in one currency."""

    as_of: date
    account_count: int
    balance_minor: int
    discretionary_minor: int
    series: list[StoredSeries]


def runway_inputs(
    ex: Executor, principal: Principal, family_id: UUID, *, currency: str, as_of: date | None,
    window_days: int,
) -> tuple[Membership, RunwayInputs] | None:
    """Balance, projectable series and the discretionary outflow total in one statement.

    ``as_of`` defaults to the day of the latest balance (else today, UTC); the balance is the
    sum of each account's latest balance on or before it. Series count when not dismissed,
    not a transfer between the family's own accounts and seen only on these accounts.
    Discretionary outflows are those booked in the ``window_days`` up to ``as_of`` that are
    neither transfers nor part of such a series.
    """
    visible = _series_visible_to("rs", "s.user_id", "s.role", "s.family_id")
    row = ex.fetch_one(
        f"""WITH {SCOPE}, {VISIBLE_ACCOUNTS},
            runway_accounts AS (
                SELECT id FROM visible_accounts
                WHERE type IN ('current', 'savings') AND currency = :currency),
            all_latest AS (
                SELECT DISTINCT ON (b.account_id) b.account_id, b.amount_minor, b.as_of
                FROM balances b JOIN runway_accounts ra ON ra.id = b.account_id
                WHERE CAST(:as_of AS date) IS NULL
                   OR b.as_of < CAST(CAST(:as_of AS date) + 1 AS timestamp) AT TIME ZONE 'UTC'
                ORDER BY b.account_id, b.as_of DESC),
            horizon AS (
                SELECT coalesce(CAST(:as_of AS date),
                                CAST((SELECT max(as_of) FROM all_latest) AT TIME ZONE 'UTC'
                                     AS date),
                                CAST(now() AT TIME ZONE 'UTC' AS date)) AS as_of),
            live_series AS (
                SELECT {_SERIES_COLUMNS}, d.decision
                FROM recurring_series rs JOIN scope s ON s.family_id = rs.family_id
                LEFT JOIN recurring_decisions d
                       ON d.family_id = rs.family_id AND d.series_id = rs.id
                WHERE d.decision IS DISTINCT FROM 'dismissed' AND NOT rs.internal_transfer
                  AND rs.currency = :currency AND {visible}
                  AND NOT EXISTS (
                      SELECT 1 FROM jsonb_array_elements_text(rs.account_ids) sa(account_id)
                      WHERE CAST(sa.account_id AS uuid) NOT IN (SELECT id FROM runway_accounts))),
            recurring_transactions AS (
                SELECT CAST(x.id AS uuid) AS id
                FROM live_series ls, jsonb_array_elements_text(ls.transaction_ids) x(id))
            SELECT {SCOPE_COLUMNS}, h.as_of,
                (SELECT count(*) FROM runway_accounts) AS account_count,
                (SELECT coalesce(sum(amount_minor), 0) FROM all_latest) AS balance_minor,
                (SELECT coalesce(sum(-t.amount_minor), 0)
                 FROM transactions t JOIN runway_accounts ra ON ra.id = t.account_id
                 WHERE t.family_id = s.family_id AND t.amount_minor < 0
                   AND t.booked_on > h.as_of - CAST(:window_days AS integer)
                   AND t.booked_on <= h.as_of
                   AND t.category_id IS DISTINCT FROM 'transfers'
                   AND t.id NOT IN (SELECT id FROM recurring_transactions))
                    AS discretionary_minor,
                (SELECT coalesce(jsonb_agg(to_jsonb(ls)), CAST('[]' AS jsonb))
                 FROM live_series ls) AS series
            FROM scope s CROSS JOIN horizon h""",  # noqa: S608
        {**family_params(principal, family_id), "currency": currency, "as_of": as_of,
         "window_days": window_days},
    )
    if row is None:
        return None
    return scope_of(row), RunwayInputs(
        as_of=row["as_of"], account_count=int(row["account_count"]),
        balance_minor=int(row["balance_minor"]),
        discretionary_minor=int(row["discretionary_minor"]),
        series=[series_from_row(item) for item in row["series"]],
    )


# -- the post-sync refresh (trusted: the sync worker) -------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshTransaction:
    """A transaction as the refresh reads it (``provider_category``: the raw column)."""

    id: str
    account_id: str
    booked_on: date
    booked: bool
    description: str
    merchant: str | None
    amount_minor: int
    currency: str
    provider_category: str | None
    category: str | None
    source: str | None
    confidence: Decimal | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshSnapshot:
    """Everything of one family the refresh recomputes from."""

    account_ids: frozenset[str]
    transactions: list[RefreshTransaction]
    rules: list[CategoryRule]
    series: dict[str, StoredSeries]


def lock_family_for_refresh(ex: Executor, family_id: UUID) -> bool:
    """Serialise refreshes of one family and hold off its deletion; ``False`` if gone."""
    row = ex.fetch_one(
        """SELECT f.id, pg_advisory_xact_lock(hashtextextended('insights:' || f.id::text, 0))
           FROM families f WHERE f.id = :family_id AND f.deleted_at IS NULL
           FOR SHARE OF f""",
        {"family_id": family_id},
    )
    return row is not None


def load_refresh_snapshot(ex: Executor, family_id: UUID) -> RefreshSnapshot:
    """The family's accounts, transactions, rules and stored series (three statements)."""
    txn_rows = ex.fetch_all(
        """SELECT t.id, t.account_id, t.booked_on, t.status, t.description, t.merchant,
                  t.amount_minor, t.currency, t.category, t.category_id, t.category_source,
                  t.category_confidence, t.updated_at
           FROM transactions t WHERE t.family_id = :family_id
           ORDER BY t.booked_on, t.id""",
        {"family_id": family_id},
    )
    rule_rows = ex.fetch_all(
        f"""SELECT {_RULE_COLUMNS}, CAST(NULL AS uuid) AS account_id
            FROM category_rules r WHERE r.family_id = :family_id
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, a.id
            FROM accounts a WHERE a.family_id = :family_id""",  # noqa: S608
        {"family_id": family_id},
    )
    series_rows = ex.fetch_all(
        f"""SELECT {_SERIES_COLUMNS} FROM recurring_series rs
            WHERE rs.family_id = :family_id""",  # noqa: S608
        {"family_id": family_id},
    )
    return RefreshSnapshot(
        account_ids=frozenset(str(r["account_id"]) for r in rule_rows if r["id"] is None),
        transactions=[
            RefreshTransaction(
                id=str(r["id"]), account_id=str(r["account_id"]), booked_on=r["booked_on"],
                booked=r["status"] == "booked", description=r["description"],
                merchant=r["merchant"], amount_minor=int(r["amount_minor"]),
                currency=r["currency"], provider_category=r["category"],
                category=r["category_id"], source=r["category_source"],
                confidence=r["category_confidence"], updated_at=r["updated_at"],
            )
            for r in txn_rows
        ],
        rules=[_rule(r) for r in rule_rows if r["id"] is not None],
        series={r["id"]: series_from_row(r) for r in series_rows},
    )


@dataclass(frozen=True, slots=True)
class CategoryChange:
    """An automatic category for one transaction."""

    transaction_id: str
    category: str
    source: str
    confidence: Decimal


def write_categories(ex: Executor, family_id: UUID, changes: Sequence[CategoryChange]) -> None:
    """Store automatic categories; a row a member categorised meanwhile is left alone."""
    if not changes:
        return
    ex.execute_batch(
        """UPDATE transactions SET category_id = :category_id, category_source = :source,
               category_confidence = :confidence, updated_at = now()
           WHERE id = :id AND family_id = :family_id
             AND category_source IS DISTINCT FROM 'member'""",
        [{"id": UUID(c.transaction_id), "family_id": family_id, "category_id": c.category,
          "source": c.source, "confidence": c.confidence} for c in changes],
    )


def write_series(
    ex: Executor, family_id: UUID, upserts: Sequence[StoredSeries], removed: Sequence[str]
) -> None:
    """Insert or replace detected series and delete those no longer detected."""
    if upserts:
        param_sets: list[Params] = [
            {"family_id": family_id, "id": s.id, "direction": s.direction,
             "merchant": s.merchant, "category_id": s.category, "frequency": s.frequency,
             "currency": s.currency, "average": s.average_amount_minor,
             "min": s.min_amount_minor, "max": s.max_amount_minor,
             "last": s.last_amount_minor, "first_date": s.first_date,
             "last_date": s.last_date, "next_date": s.next_date,
             "next_amount": s.next_amount_minor, "shift": s.schedule_shift,
             "anchor": s.schedule_anchor, "day": s.schedule_day,
             "position": s.schedule_position, "status": s.status,
             "explanation": s.explanation, "internal": s.internal_transfer,
             "transaction_ids": Json(list(s.transaction_ids)),
             "account_ids": Json(list(s.account_ids)), "detected_on": s.detected_on}
            for s in upserts
        ]
        ex.execute_batch(
            """INSERT INTO recurring_series (family_id, id, direction, merchant, category_id,
                   frequency, currency, average_amount_minor, min_amount_minor,
                   max_amount_minor, last_amount_minor, first_date, last_date, next_date,
                   next_amount_minor, schedule_shift, schedule_anchor, schedule_day,
                   schedule_position, status, explanation, internal_transfer,
                   transaction_ids, account_ids, detected_on)
               VALUES (:family_id, :id, :direction, :merchant, :category_id, :frequency,
                   :currency, :average, :min, :max, :last, :first_date, :last_date,
                   :next_date, :next_amount, :shift, :anchor, CAST(:day AS smallint),
                   :position, :status, :explanation, :internal, :transaction_ids,
                   :account_ids, :detected_on)
               ON CONFLICT (family_id, id) DO UPDATE SET
                   direction = EXCLUDED.direction, merchant = EXCLUDED.merchant,
                   category_id = EXCLUDED.category_id, frequency = EXCLUDED.frequency,
                   currency = EXCLUDED.currency,
                   average_amount_minor = EXCLUDED.average_amount_minor,
                   min_amount_minor = EXCLUDED.min_amount_minor,
                   max_amount_minor = EXCLUDED.max_amount_minor,
                   last_amount_minor = EXCLUDED.last_amount_minor,
                   first_date = EXCLUDED.first_date, last_date = EXCLUDED.last_date,
                   next_date = EXCLUDED.next_date, next_amount_minor = EXCLUDED.next_amount_minor,
                   schedule_shift = EXCLUDED.schedule_shift,
                   schedule_anchor = EXCLUDED.schedule_anchor,
                   schedule_day = EXCLUDED.schedule_day,
                   schedule_position = EXCLUDED.schedule_position, status = EXCLUDED.status,
                   explanation = EXCLUDED.explanation,
                   internal_transfer = EXCLUDED.internal_transfer,
                   transaction_ids = EXCLUDED.transaction_ids,
                   account_ids = EXCLUDED.account_ids, detected_on = EXCLUDED.detected_on,
                   updated_at = now()""",
            param_sets,
        )
    if removed:
        ex.execute_batch(
            "DELETE FROM recurring_series WHERE family_id = :family_id AND id = :id",
            [{"family_id": family_id, "id": series_id} for series_id in removed],
        )


def accounts_by_family(ex: Executor, account_ids: Sequence[str]) -> dict[UUID, list[str]]:
    """The given accounts grouped by their live family (the sync hook's lookup; unknown
    ids are left out)."""
    rows = ex.fetch_all(
        """SELECT a.family_id, CAST(a.id AS text) AS account_id FROM accounts a
           JOIN families f ON f.id = a.family_id AND f.deleted_at IS NULL
           WHERE CAST(a.id AS text) IN (
               SELECT jsonb_array_elements_text(CAST(:account_ids AS jsonb)))
           ORDER BY a.family_id, a.id""",
        {"account_ids": Json([str(a) for a in account_ids])},
    )
    grouped: dict[UUID, list[str]] = {}
    for row in rows:
        grouped.setdefault(row["family_id"], []).append(row["account_id"])
    return grouped
