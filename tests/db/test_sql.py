"""The SQL lexer: placeholders and statement splitting ignore literals and comments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.db.sql import first_keyword, parameter_names, split_statements, to_pyformat


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("SELECT :a, :b_2", ["a", "b_2"]),
        ("SELECT :a::numeric, x::text", ["a"]),
        ("SELECT ':not_a_param', \"col:x\"", []),
        ("SELECT E'it\\'s :no', :yes", ["yes"]),
        ("SELECT 'it''s :no', :yes", ["yes"]),
        ("SELECT $$ :no $$, $tag$ ; :no $tag$, :yes", ["yes"]),
        ("SELECT 1 -- :no\n, :yes", ["yes"]),
        ("SELECT /* :no /* nested :no */ :no */ :yes", ["yes"]),
        ("SELECT f(a := 1), :yes", ["yes"]),
        ("SELECT :a, :a", ["a", "a"]),
        ("SELECT '10:30'::time", []),
    ],
)
def test_parameter_names_skip_literals_comments_and_casts(sql: str, names: list[str]) -> None:
    assert parameter_names(sql) == names


def test_to_pyformat_rewrites_placeholders_and_escapes_percent() -> None:
    query, names = to_pyformat("SELECT :a, 'x%' LIKE '%', :b::int")
    assert query == "SELECT %(a)s, 'x%%' LIKE '%%', %(b)s::int"
    assert names == ["a", "b"]


def test_to_pyformat_leaves_sql_without_placeholders_untouched() -> None:
    assert to_pyformat("SELECT '50%'") == ("SELECT '50%'", [])


def test_split_statements_respects_quotes_dollar_bodies_and_comments() -> None:
    script = """
    -- leading comment; not a statement
    CREATE TABLE a (x text DEFAULT ';');
    CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$
    BEGIN
        RETURN 1; -- inner ;
    END;
    $body$;
    /* block; comment */
    INSERT INTO a VALUES ('it''s; fine');;
    """
    statements = split_statements(script)
    assert len(statements) == 3
    assert statements[0].endswith("CREATE TABLE a (x text DEFAULT ';')")
    assert statements[1].startswith("CREATE FUNCTION f()")
    assert statements[1].endswith("$body$")
    assert statements[2].endswith("INSERT INTO a VALUES ('it''s; fine')")


def test_first_keyword_skips_comments_and_parentheses() -> None:
    assert first_keyword("  -- hi\n /* x */ (select 1)") == "SELECT"
    assert first_keyword("with x as (select 1) select * from x") == "WITH"
    assert first_keyword("") == ""


_literal_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)


@given(_literal_text)
def test_any_string_literal_hides_its_content(text: str) -> None:
    literal = "'" + text.replace("'", "''") + "'"
    sql = f"SELECT {literal}, :p; SELECT 2"
    assert parameter_names(sql) == ["p"]
    assert split_statements(sql) == [f"SELECT {literal}, :p", "SELECT 2"]
