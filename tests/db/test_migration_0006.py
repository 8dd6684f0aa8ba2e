"""Migration 0006 on a database that already holds free-text categories (real PostgreSQL)."""

from __future__ import annotations

import shutil
from pathlib import Path

from service.db.migrations import DEFAULT_MIGRATIONS_DIR, upgrade
from service.db.postgres import PostgresDatabase

INSIGHTS = "0006_insights.sql"
LEGACY = {
    "Groceries": ("groceries", "member"),
    "eating out": ("eating_out", "member"),
    "Childcare & Education": ("childcare_education", "member"),
    "fees & charges": ("fees_charges", "member"),
    "transfer": ("transfers", "member"),
    " Salary ": ("income", "member"),
    "Kids clubs": ("other", "member"),
    "??": ("other", "member"),
    # The provider's transaction type is data for categorisation, not a member's choice.
    "DIRECT_DEBIT": (None, None),
}


def _folder(tmp_path: Path, *, with_insights: bool) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    for path in sorted(DEFAULT_MIGRATIONS_DIR.glob("*.sql")):
        if path.name < INSIGHTS or (with_insights and path.name == INSIGHTS):
            shutil.copy(path, folder / path.name)
    return folder


def test_free_text_categories_move_to_taxonomy_ids(empty_postgres_url: str,
                                                   tmp_path: Path) -> None:
    db = PostgresDatabase(empty_postgres_url)
    try:
        upgrade(db, _folder(tmp_path, with_insights=False))
        db.execute(
            """WITH u AS (INSERT INTO users (issuer, subject, email) VALUES ('i', 's', 'e')
                          RETURNING id),
                    f AS (INSERT INTO families (name) VALUES ('F') RETURNING id),
                    m AS (INSERT INTO memberships (family_id, user_id, role)
                          SELECT f.id, u.id, 'owner' FROM f, u RETURNING family_id, user_id)
               INSERT INTO accounts (family_id, holder_user_id, provider_account_id, name, type,
                                     currency)
               SELECT family_id, user_id, 'acc', 'Current', 'current', 'GBP' FROM m""")
        for n, text in enumerate([*LEGACY, None]):
            db.execute(
                """INSERT INTO transactions (family_id, account_id, provider_transaction_id,
                       status, booked_on, description, amount_minor, currency, category)
                   SELECT family_id, id, :pid, 'booked', DATE '2025-01-01', 'x', -100, 'GBP',
                          :category FROM accounts""",
                {"pid": f"t{n}", "category": text})
        assert upgrade(db, _folder(tmp_path, with_insights=True)) == [INSIGHTS]
        rows = db.fetch_all("""SELECT category, category_id, category_source,
                                      category_confidence FROM transactions""")
        migrated = {r["category"]: (r["category_id"], r["category_source"]) for r in rows}
        assert migrated == {**LEGACY, None: (None, None)}
        # The free text the previous release wrote stays where it was (expand only).
        assert {r["category"] for r in rows} == {*LEGACY, None}
        assert {r["category_confidence"] for r in rows if r["category_source"]} == {1}
    finally:
        db.close()
