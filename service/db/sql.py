"""SQL text scanning shared by both adapters, the migration runner and the local Data API.

One small lexer walks SQL text and knows what is *not* code: string literals
(``'...'`` with ``''`` escapes, ``E'...'`` with backslash escapes), quoted
identifiers (``"..."``), dollar-quoted bodies (``$tag$...$tag$``), line comments
(``-- ...``) and nested block comments (``/* ... */``). Everything built on it
(placeholder rewriting, statement splitting) therefore ignores ``:name`` and
``;`` inside those, and leaves ``::`` casts and ``:=`` alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "code", "literal" (strings, identifiers, comments), "param", "semicolon"
    text: str


def _skip_quoted(sql: str, start: int, quote: str, *, backslash: bool) -> int:
    """Return the index just after the closing ``quote`` of a literal opened at ``start``."""
    i = start + 1
    n = len(sql)
    while i < n:
        ch = sql[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and sql[i + 1] == quote:  # doubled quote is an escaped quote
                i += 2
                continue
            return i + 1
        i += 1
    return n  # unterminated: the server will report it


def _skip_block_comment(sql: str, start: int) -> int:
    depth = 0
    i = start
    n = len(sql)
    while i < n:
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _tokens(sql: str) -> Iterator[_Token]:
    i = 0
    n = len(sql)
    code_start = 0

    def flush(upto: int) -> Iterator[_Token]:
        if upto > code_start:
            yield _Token("code", sql[code_start:upto])

    while i < n:
        ch = sql[i]
        end = -1
        kind = "literal"
        if ch == "'":
            escaped = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _is_ident_char(sql[i - 2]))
            end = _skip_quoted(sql, i, "'", backslash=escaped)
        elif ch == '"':
            end = _skip_quoted(sql, i, '"', backslash=False)
        elif sql.startswith("--", i):
            nl = sql.find("\n", i)
            end = n if nl == -1 else nl
        elif sql.startswith("/*", i):
            end = _skip_block_comment(sql, i)
        elif ch == "$" and (i == 0 or not _is_ident_char(sql[i - 1])):
            match = _DOLLAR_TAG.match(sql, i)
            if match:
                close = sql.find(match.group(0), match.end())
                end = n if close == -1 else close + len(match.group(0))
        elif ch == ":":
            if sql.startswith("::", i):
                i += 2
                continue
            if sql.startswith(":=", i) or (i > 0 and sql[i - 1] == ":"):
                i += 1
                continue
            match = _NAME.match(sql, i + 1)
            if match:
                yield from flush(i)
                yield _Token("param", match.group(0))
                i = code_start = match.end()
                continue
        elif ch == ";":
            yield from flush(i)
            yield _Token("semicolon", ";")
            i = code_start = i + 1
            continue
        if end != -1:
            yield from flush(i)
            yield _Token(kind, sql[i:end])
            i = code_start = end
            continue
        i += 1
    yield from flush(n)


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def parameter_names(sql: str) -> list[str]:
    """Return the ``:name`` placeholders of ``sql`` in order of appearance (with repeats)."""
    return [tok.text for tok in _tokens(sql) if tok.kind == "param"]


def rewrite_placeholders(sql: str, render: Callable[[str], str]) -> tuple[str, list[str]]:
    """Replace each ``:name`` placeholder with ``render(name)``, doubling literal ``%``.

    Returns the rewritten SQL and the placeholder names found. When there are no
    placeholders the SQL is returned unchanged (psycopg then does not interpret
    ``%``); otherwise every literal ``%`` is doubled, as psycopg requires.
    """
    tokens = list(_tokens(sql))
    names = [tok.text for tok in tokens if tok.kind == "param"]
    if not names:
        return sql, []
    out: list[str] = []
    for tok in tokens:
        if tok.kind == "param":
            out.append(render(tok.text))
        else:
            out.append(tok.text.replace("%", "%%"))
    return "".join(out), names


def to_pyformat(sql: str) -> tuple[str, list[str]]:
    """Rewrite ``:name`` placeholders as psycopg ``%(name)s`` (see :func:`rewrite_placeholders`)."""
    return rewrite_placeholders(sql, lambda name: f"%({name})s")


@lru_cache(maxsize=1024)
def pyformat_of(sql: str) -> tuple[str, tuple[str, ...]]:
    """:func:`to_pyformat`, memoised: the adapters run the same few statement texts again
    and again, and lexing a long scoped statement costs more than running it warm."""
    query, names = to_pyformat(sql)
    return query, tuple(names)


@lru_cache(maxsize=1024)
def parameter_names_of(sql: str) -> tuple[str, ...]:
    """:func:`parameter_names`, memoised (see :func:`pyformat_of`)."""
    return tuple(parameter_names(sql))


def split_statements(sql: str) -> list[str]:
    """Split a script into statements on ``;`` outside literals, identifiers and comments.

    Statements that hold nothing but whitespace and comments are dropped; each
    returned statement is stripped and carries no trailing ``;``.
    """
    statements: list[str] = []
    current: list[str] = []
    has_code = False

    def finish() -> None:
        nonlocal has_code
        if has_code:
            statements.append("".join(current).strip())
        current.clear()
        has_code = False

    for tok in _tokens(sql):
        if tok.kind == "semicolon":
            finish()
            continue
        current.append(tok.text if tok.kind != "param" else f":{tok.text}")
        is_comment = tok.kind == "literal" and tok.text.startswith(("--", "/*"))
        if (tok.kind != "code" and not is_comment) or (tok.text.strip() and not is_comment):
            has_code = True
    finish()
    return statements


def first_keyword(sql: str) -> str:
    """Return the first keyword of ``sql`` in upper case, skipping comments and parentheses."""
    for tok in _tokens(sql):
        if tok.kind == "code":
            match = re.search(r"[A-Za-z]+", tok.text)
            if match:
                return match.group(0).upper()
            if tok.text.strip(" \t\r\n("):
                return ""
        elif tok.kind == "literal" and tok.text.startswith(("--", "/*")):
            continue
        else:
            return ""
    return ""
