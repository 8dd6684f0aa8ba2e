"""Verification of every family's audit chain (``flask --app service audit verify``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from service.audit.anchors import Anchor
from service.audit.chain import GENESIS_HASH, LEGACY_KEY_ID, canonical_entry, entry_link
from service.audit.keys import AuditKeys
from service.db.port import Executor
from service.repositories import audit as audit_sql

_PAGE = 500


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of :func:`verify_chain`; ``ok`` only when no problem was found."""

    families_checked: int
    entries_checked: int
    problems: list[str] = field(default_factory=list)
    anchored_at: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every chain is intact."""
        return not self.problems


def verify_chain(
    db: Executor, keys: AuditKeys, *, anchor: Anchor | None = None,
    family_id: UUID | None = None,
) -> VerificationResult:
    """Recompute every entry's keyed link and check each chain against head and anchor.

    Reports: an entry whose link does not verify (forged or edited: the key is not in the
    database), a broken ``prev_hash`` or index sequence (entries deleted, inserted or
    reordered), a chain that ends before its head, a family (live or deleted) without a
    chain, and a chain that no longer reaches its entry in the latest ``anchor`` (a
    deleted tail or a deleted chain, even with ``audit_heads`` rewritten to match).

    Parameters
    ----------
    db
        Any executor; reads in keyset pages (bounded Data API responses).
    keys
        Every audit key version (entries name theirs).
    anchor
        The latest anchor (:meth:`~service.audit.anchors.AnchorStore.latest`), if any.
    family_id
        Verify only this family's chain.
    """
    problems: list[str] = []
    heads = audit_sql.heads(db, family_id)
    families = audit_sql.family_ids(db, family_id)
    last: dict[UUID, tuple[int, str]] = {}
    keyed_seen: set[UUID] = set()
    entries = 0
    cursor: tuple[UUID, int] | None = None
    while True:
        rows = audit_sql.chain_page(db, family_id=family_id, after=cursor, limit=_PAGE)
        for row in rows:
            entries += 1
            fid: UUID = row["family_id"]
            index = int(row["chain_index"])
            key_id: str = row["key_id"]
            prev_index, prev_hash = last.get(fid, (0, GENESIS_HASH))
            where = f"family {fid} entry {index} (seq {row['seq']})"
            if index != prev_index + 1:
                problems.append(f"{where}: expected index {prev_index + 1} (entry missing)")
            if row["prev_hash"] != prev_hash:
                problems.append(f"{where}: prev_hash does not match the previous entry")
            if key_id == LEGACY_KEY_ID and fid in keyed_seen:
                problems.append(f"{where}: unkeyed entry after keyed ones (forged)")
            elif key_id != LEGACY_KEY_ID:
                keyed_seen.add(fid)
            if key_id != LEGACY_KEY_ID and key_id not in keys.keys:
                problems.append(f"{where}: keyed with unknown key {key_id!r} (forged)")
            else:
                recomputed = entry_link(keys, key_id, row["prev_hash"], canonical_entry(
                    family_id=fid, index=index, actor=row["actor"], action=row["action"],
                    target_type=row["target_type"], target_id=row["target_id"], at=row["at"],
                    key_id=key_id,
                ))
                if recomputed != row["hash"]:
                    problems.append(f"{where}: content does not match its hash (forged or "
                                    "edited)")
            last[fid] = (index, row["hash"])
        if len(rows) < _PAGE:
            break
        cursor = (rows[-1]["family_id"], int(rows[-1]["chain_index"]))
    for fid in sorted(families - set(last), key=str):
        problems.append(f"family {fid}: has no audit chain (chain deleted)")
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
    if anchor is not None:
        problems.extend(_check_anchor(db, anchor, last, family_id))
    checked = families | set(heads) | set(last)
    return VerificationResult(
        families_checked=len(checked), entries_checked=entries, problems=problems,
        anchored_at=None if anchor is None else anchor.taken_at.isoformat(),
    )


def _check_anchor(
    db: Executor, anchor: Anchor, last: dict[UUID, tuple[int, str]], family_id: UUID | None
) -> list[str]:
    anchored = {fid: head for fid, head in anchor.heads.items()
                if family_id is None or fid == family_id}
    found = audit_sql.links_at(db, {fid: index for fid, (index, _) in anchored.items()})
    problems = []
    stamp = anchor.taken_at.isoformat()
    for fid, (index, digest) in sorted(anchored.items(), key=lambda kv: str(kv[0])):
        if fid not in last:
            problems.append(f"family {fid}: chain anchored at entry {index} ({stamp}) is gone "
                            "(chain deleted)")
        elif fid not in found:
            problems.append(f"family {fid}: chain ends at entry {last[fid][0]} before its "
                            f"anchored entry {index} ({stamp}) (tail deleted)")
        elif found[fid] != digest:
            problems.append(f"family {fid}: entry {index} differs from the anchor of {stamp} "
                            "(chain rewritten)")
    return problems
