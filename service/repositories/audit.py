"""SQL of the audit chain: heads, appends batched with the change they record, reads.

Appends run in the statement that makes the change: :func:`append_ctes` returns CTEs
that insert the sealed entries and move the head *only if* the change's CTE returned a
row, so a write is one lock statement plus one change statement (see
:mod:`service.repositories.scope`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from service.audit.chain import GENESIS_HASH, ChainHead, SealedEntry
from service.db.port import Executor, Json, Row, SqlValue
from service.domain.models import AuditEntry, Membership
from service.domain.principal import Principal
from service.repositories.scope import SCOPE, SCOPE_COLUMNS, family_params, scope_of

_ENTRY_COLUMNS = ("family_id, chain_index, actor, action, target_type, target_id, at, "
                  "key_id, prev_hash, hash")


def head_of(row: Row) -> ChainHead:
    """The chain head in a lock statement's row."""
    return ChainHead(family_id=row["scope_family"], index=int(row["head_index"]),
                     hash=row["head_hash"])


def append_ctes(
    entries: Sequence[SealedEntry], *, after: str | None = "change", new_chain: bool = False
) -> tuple[str, dict[str, SqlValue]]:
    """CTEs (``audit_entries``, ``audit_head``) appending ``entries`` to one chain.

    Parameters
    ----------
    entries
        Sealed entries of ONE family, consecutive after the head the caller locked.
    after
        Name of a CTE that must return a row for the append to happen; ``None``: always.
    new_chain
        Insert the head row (a family created in the same statement) instead of moving it.
    """
    if not entries:
        raise ValueError("nothing to append")
    params: dict[str, SqlValue] = {
        "audit_family": entries[0].family_id,
        "audit_last_index": entries[-1].index,
        "audit_last_hash": entries[-1].hash,
        "audit_prev_index": entries[0].index - 1,
    }
    values = []
    for n, e in enumerate(entries):
        p = f"ae{n}_"
        values.append(
            f"(CAST(:{p}index AS bigint), CAST(:{p}actor AS text), CAST(:{p}action AS text),"
            f" CAST(:{p}target_type AS text), CAST(:{p}target_id AS text),"
            f" CAST(:{p}at AS timestamptz), CAST(:{p}key_id AS text),"
            f" CAST(:{p}prev_hash AS text), CAST(:{p}hash AS text))"
        )
        params.update({
            f"{p}index": e.index, f"{p}actor": e.event.actor, f"{p}action": e.event.action,
            f"{p}target_type": e.event.target_type, f"{p}target_id": e.event.target_id,
            f"{p}at": e.at, f"{p}key_id": e.key_id, f"{p}prev_hash": e.prev_hash,
            f"{p}hash": e.hash,
        })
    guard = f"WHERE EXISTS (SELECT 1 FROM {after})" if after else ""  # noqa: S608
    if new_chain:
        head = f"""audit_head AS (
            INSERT INTO audit_heads (family_id, chain_index, hash)
            SELECT :audit_family, :audit_last_index, :audit_last_hash {guard}
            RETURNING family_id)"""
    else:
        and_guard = f"AND EXISTS (SELECT 1 FROM {after})" if after else ""  # noqa: S608
        head = f"""audit_head AS (
            UPDATE audit_heads SET chain_index = :audit_last_index, hash = :audit_last_hash
            WHERE family_id = :audit_family AND chain_index = :audit_prev_index {and_guard}
            RETURNING family_id)"""  # noqa: S608
    entries_cte = f"""audit_entries AS (
        INSERT INTO audit_log ({_ENTRY_COLUMNS})
        SELECT :audit_family, v.* FROM (VALUES {", ".join(values)})
            AS v(chain_index, actor, action, target_type, target_id, at, key_id,
                 prev_hash, hash)
        {guard}
        RETURNING seq)"""  # noqa: S608
    return f"{entries_cte},\n{head}", params


def lock_head(ex: Executor, family_id: UUID) -> ChainHead:
    """Lock a family's head (``FOR UPDATE``) on its own; prefer a lock statement."""
    row = ex.fetch_one(
        "SELECT chain_index, hash FROM audit_heads WHERE family_id = :family_id FOR UPDATE",
        {"family_id": family_id},
    )
    if row is None:
        return ChainHead(family_id=family_id, index=0, hash=GENESIS_HASH)
    return ChainHead(family_id=family_id, index=int(row["chain_index"]), hash=row["hash"])


def append(ex: Executor, entries: Sequence[SealedEntry], *, new_chain: bool = False) -> None:
    """Append sealed entries as a statement of their own (after :func:`lock_head`)."""
    ctes, params = append_ctes(entries, after=None, new_chain=new_chain)
    ex.fetch_all(f"WITH {ctes} SELECT count(*) AS n FROM audit_entries", params)  # noqa: S608


def list_entries(
    ex: Executor, principal: Principal, family_id: UUID, *, before_seq: int | None,
    limit: int,
) -> tuple[Membership | None, list[AuditEntry]]:
    """The caller's scope (``None``: not a member) and, for owners, a page of the chain,
    newest first."""
    params: dict[str, Any] = {**family_params(principal, family_id), "limit": limit,
                              "before_seq": before_seq}
    rows = ex.fetch_all(
        f"""WITH {SCOPE}
            SELECT {SCOPE_COLUMNS}, e.seq, e.actor, e.action, e.target_type, e.target_id, e.at
            FROM scope s LEFT JOIN LATERAL (
                SELECT seq, actor, action, target_type, target_id, at FROM audit_log
                WHERE family_id = s.family_id AND s.role = 'owner'
                  AND (CAST(:before_seq AS bigint) IS NULL OR seq < CAST(:before_seq AS bigint))
                ORDER BY seq DESC LIMIT :limit) e ON true
            ORDER BY e.seq DESC""",  # noqa: S608
        params,
    )
    if not rows:
        return None, []
    return scope_of(rows[0]), [AuditEntry(seq=int(r["seq"]), actor=r["actor"], action=r["action"],
                             target_type=r["target_type"], target_id=r["target_id"], at=r["at"])
                  for r in rows if r["seq"] is not None]


# -- verification and anchoring (no caller scope: operator tools) --------------------------

def chain_page(
    ex: Executor, *, family_id: UUID | None, after: tuple[UUID, int] | None, limit: int
) -> list[Row]:
    """Entries in (family, index) order after ``after``, at most ``limit``."""
    conditions = []
    params: dict[str, Any] = {"limit": limit}
    if family_id is not None:
        conditions.append("family_id = :family_id")
        params["family_id"] = family_id
    if after is not None:
        conditions.append("(family_id, chain_index) > (:after_family, :after_index)")
        params["after_family"], params["after_index"] = after
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return ex.fetch_all(
        f"""SELECT seq, {_ENTRY_COLUMNS} FROM audit_log {where}
            ORDER BY family_id, chain_index LIMIT :limit""",  # noqa: S608
        params,
    )


def heads(ex: Executor, family_id: UUID | None = None) -> dict[UUID, tuple[int, str]]:
    """``audit_heads`` by family."""
    rows = ex.fetch_all(
        "SELECT family_id, chain_index, hash FROM audit_heads"
        " WHERE CAST(:family_id AS uuid) IS NULL OR family_id = CAST(:family_id AS uuid)",
        {"family_id": family_id},
    )
    return {r["family_id"]: (int(r["chain_index"]), r["hash"]) for r in rows}


def family_ids(ex: Executor, family_id: UUID | None = None) -> set[UUID]:
    """Every family, live or deleted (tombstones stay)."""
    rows = ex.fetch_all(
        "SELECT id FROM families"
        " WHERE CAST(:family_id AS uuid) IS NULL OR id = CAST(:family_id AS uuid)",
        {"family_id": family_id},
    )
    return {r["id"] for r in rows}


def last_links(ex: Executor) -> dict[UUID, tuple[int, str]]:
    """The last entry (index, hash) of every chain, read from the log itself."""
    rows = ex.fetch_all(
        """SELECT DISTINCT ON (family_id) family_id, chain_index, hash FROM audit_log
           ORDER BY family_id, chain_index DESC"""
    )
    return {r["family_id"]: (int(r["chain_index"]), r["hash"]) for r in rows}


def links_at(ex: Executor, wanted: dict[UUID, int]) -> dict[UUID, str]:
    """Hash of entry ``index`` of each family in ``wanted`` (missing entries are absent)."""
    if not wanted:
        return {}
    rows = ex.fetch_all(
        """SELECT l.family_id, l.hash FROM audit_log l
           JOIN jsonb_each_text(CAST(:wanted AS jsonb)) w
             ON l.family_id = CAST(w.key AS uuid) AND l.chain_index = CAST(w.value AS bigint)""",
        {"wanted": Json({str(k): v for k, v in wanted.items()})},
    )
    return {r["family_id"]: r["hash"] for r in rows}

