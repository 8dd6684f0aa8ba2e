"""Verification of every family's audit chain (``flask --app service audit verify``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from service.audit.chain import GENESIS_HASH, canonical_entry, entry_hash
from service.db.port import Executor

_PAGE = 500


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of :func:`verify_chain`; ``ok`` only when no problem was found."""

    families_checked: int
    entries_checked: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every chain is intact."""
        return not self.problems


def verify_chain(db: Executor, *, family_id: UUID | None = None) -> VerificationResult:
    """Recompute every entry's hash and link, and compare each chain's end with its head.

    Reads in keyset pages (bounded responses through the Data API). Detects edited,
    deleted, inserted or reordered entries and a truncated tail (via ``audit_heads``).

    Parameters
    ----------
    db:
        Any executor.
    family_id:
        Verify only this family's chain.
    """
    problems: list[str] = []
    head_rows = (
        db.fetch_all("SELECT family_id, chain_index, hash FROM audit_heads")
        if family_id is None else
        db.fetch_all("SELECT family_id, chain_index, hash FROM audit_heads "
                     "WHERE family_id = :family_id", {"family_id": family_id})
    )
    heads = {row["family_id"]: (int(row["chain_index"]), row["hash"]) for row in head_rows}
    last: dict[UUID, tuple[int, str]] = {}
    entries = 0
    cursor: tuple[UUID, int] | None = None
    while True:
        rows = _page(db, family_id, cursor)
        for row in rows:
            entries += 1
            fid: UUID = row["family_id"]
            index = int(row["chain_index"])
            prev_index, prev_hash = last.get(fid, (0, GENESIS_HASH))
            where = f"family {fid} entry {index} (seq {row['seq']})"
            if index != prev_index + 1:
                problems.append(f"{where}: expected index {prev_index + 1} (entry missing)")
            if row["prev_hash"] != prev_hash:
                problems.append(f"{where}: prev_hash does not match the previous entry")
            recomputed = entry_hash(row["prev_hash"], canonical_entry(
                family_id=fid, index=index, actor=row["actor"], action=row["action"],
                target_type=row["target_type"], target_id=row["target_id"], at=row["at"],
            ))
            if recomputed != row["hash"]:
                problems.append(f"{where}: content does not match its hash (edited)")
            last[fid] = (index, row["hash"])
        if len(rows) < _PAGE:
            break
        cursor = (rows[-1]["family_id"], int(rows[-1]["chain_index"]))
    for fid in sorted(set(heads) | set(last), key=str):
        head = heads.get(fid)
        end = last.get(fid, (0, GENESIS_HASH))
        if head is None:
            problems.append(f"family {fid}: entries without a chain head")
        elif head != end:
            problems.append(
                f"family {fid}: chain ends at entry {end[0]} but the head records "
                f"entry {head[0]} (entries deleted or head altered)"
            )
    return VerificationResult(families_checked=len(set(heads) | set(last)),
                              entries_checked=entries, problems=problems)


def _page(db: Executor, family_id: UUID | None, cursor: tuple[UUID, int] | None) -> list[Any]:
    conditions = []
    params: dict[str, Any] = {"limit": _PAGE}
    if family_id is not None:
        conditions.append("family_id = :family_id")
        params["family_id"] = family_id
    if cursor is not None:
        conditions.append("(family_id, chain_index) > (:after_family, :after_index)")
        params["after_family"], params["after_index"] = cursor
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return db.fetch_all(
        f"""SELECT seq, family_id, chain_index, actor, action, target_type, target_id, at,
                   prev_hash, hash
            FROM audit_log {where} ORDER BY family_id, chain_index LIMIT :limit""",  # noqa: S608
        params,
    )
