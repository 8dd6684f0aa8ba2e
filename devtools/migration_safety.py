"""Expand/contract check of schema migrations: destructive statements need a reviewed marker.

Each deploy applies release N+1's migrations *before* its code takes traffic, while
release N still serves (and may be rolled back to). So a migration may only *expand*
the schema in ways release N's code keeps working with; removing or reshaping what N
uses (*contract*) waits for a later release and is reviewed. This check fails on:

``drop``
    ``DROP TABLE/VIEW/FUNCTION/TYPE/SCHEMA/...`` (anything but ``DROP INDEX``),
    ``ALTER TABLE ... DROP [COLUMN]``, ``TRUNCATE``.
``rename``
    any ``... RENAME ...``, ``ALTER TABLE ... SET SCHEMA``.
``type-change``
    ``ALTER COLUMN ... [SET DATA] TYPE`` (narrowing breaks N's writes; a widening can
    rewrite the table under lock; either way a reviewer decides).
``not-null``
    ``ALTER COLUMN ... SET NOT NULL``; ``ADD COLUMN ... NOT NULL`` without ``DEFAULT``
    (N's inserts do not name the column).
``opaque``
    ``DO`` blocks, whose dynamic SQL cannot be checked statically, and any
    ``ALTER TABLE`` the check does not understand.

Not checked, so left to review: new constraints (``CHECK``, ``UNIQUE``, foreign keys)
that reject writes the previous release still makes, and ``REVOKE`` of privileges it
uses.

A file that must contract carries, in its header comment (before the first
statement), exactly one line::

    -- contract: reviewed-by <reviewer> <YYYY-MM-DD>: <reason>

A line that attempts a marker (``-- contract: reviewed...``) but is malformed, or
one below the header, is an error rather than silently ignored. The marker also
tells a rollback that the file is a contract migration (rolling back past it would
run code against a schema it no longer fits).

Statements are scanned with the project's SQL lexer (:mod:`service.db.sql`), so
string literals, quoted identifiers, dollar-quoted bodies and comments never match.

Usage::

    python -m devtools.migration_safety [FOLDER]   # default: service/migrations
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from service.db.migrations import DEFAULT_MIGRATIONS_DIR
from service.db.sql import _tokens, split_statements

# Any line that looks like an attempt at a marker must be a well-formed one.
MARKER_PREFIX = re.compile(r"^\s*--\s*contract\s*:\s*reviewed", re.IGNORECASE)
MARKER = re.compile(
    r"^\s*--\s*contract:\s*reviewed-by\s+(?P<reviewer>[^\s:]+)\s+"
    r"(?P<date>\d{4}-\d{2}-\d{2})\s*:\s*(?P<reason>\S.*?)\s*$"
)
MARKER_FORMAT = "-- contract: reviewed-by <reviewer> <YYYY-MM-DD>: <reason>"

# Objects whose DROP leaves the previous release's SQL intact.
_HARMLESS_DROPS = frozenset({"INDEX"})
# ALTER TABLE actions that add a table constraint rather than a column.
_ADD_CONSTRAINT = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE"})

ADVICE = {
    "drop": "drop in a later release, once no running release uses it",
    "rename": "add the new name alongside the old one, backfill, switch reads, drop later",
    "type-change": "add a column of the new type, backfill, switch, drop the old one later",
    "not-null": "add the column nullable or with a DEFAULT; enforce NOT NULL later",
    "opaque": "write the statements out so they can be checked",
}


class MarkerError(ValueError):
    """A ``-- contract:`` line that is malformed or outside the file's header."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One destructive statement."""

    path: Path
    line: int
    kind: str
    statement: str

    def text(self) -> str:
        """``file:line: kind: statement (advice)``."""
        excerpt = " ".join(self.statement.split())
        excerpt = excerpt if len(excerpt) <= 90 else excerpt[:87] + "..."
        return f"{self.path.name}:{self.line}: {self.kind}: {excerpt} ({ADVICE[self.kind]})"


@dataclass(frozen=True, slots=True)
class ContractMarker:
    """The reviewed-contract marker of a migration file."""

    reviewer: str
    reviewed_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class FileReport:
    """What the check found in one migration file."""

    path: Path
    findings: tuple[Finding, ...] = ()
    marker: ContractMarker | None = None
    marker_errors: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """No marker errors, and no destructive statement unless the file is marked."""
        return not self.marker_errors and (not self.findings or self.marker is not None)


def _code(statement: str) -> str:
    """The statement's code in upper case: literals and identifiers as ``?``, no comments."""
    parts: list[str] = []
    for token in _tokens(statement):
        if token.kind == "literal":
            parts.append(" " if token.text.startswith(("--", "/*")) else " ? ")
        elif token.kind == "param":
            parts.append(" ? ")
        else:
            parts.append(token.text)
    return " ".join("".join(parts).upper().split())


def _code_offset(statement: str) -> int:
    """Where the statement's code starts, after leading comments and whitespace."""
    offset = 0
    for token in _tokens(statement):
        is_comment = token.kind == "literal" and token.text.startswith(("--", "/*"))
        if not is_comment and token.text.strip():
            return offset + len(token.text) - len(token.text.lstrip())
        offset += len(token.text)
    return 0


def _split_actions(actions: str) -> list[str]:
    """ALTER TABLE actions, split on commas outside parentheses."""
    out: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in actions:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    out.append("".join(current).strip())
    return [action for action in out if action]


_ALTER_TABLE = re.compile(
    r"^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?(?:\?|\w+)(?: ?\. ?(?:\?|\w+))* ?\*? ?(?P<actions>.*)$"
)
_ALTER_COLUMN = re.compile(r"^ALTER (?:COLUMN )?(?:\?|\w+) (?P<change>.*)$")


def _alter_table_kinds(actions: str) -> Iterator[str]:
    for action in _split_actions(actions):
        words = action.split()
        head = words[0]
        if head == "RENAME" or action.startswith("SET SCHEMA"):
            yield "rename"
        elif head == "DROP" and (len(words) < 2 or words[1] != "CONSTRAINT"):
            yield "drop"
        elif head == "ALTER":
            column = _ALTER_COLUMN.match(action)
            change = column.group("change") if column else ""
            if change.startswith(("TYPE ", "SET DATA TYPE ")):
                yield "type-change"
            elif change.startswith("SET NOT NULL"):
                yield "not-null"
        elif head == "ADD" and (len(words) < 2 or words[1] not in _ADD_CONSTRAINT):
            padded = f" {action} "
            fills_itself = " DEFAULT " in padded or " GENERATED " in padded
            if " NOT NULL " in padded and not fills_itself:
                yield "not-null"


def statement_kinds(statement: str) -> list[str]:
    """The destructive kinds of one SQL statement (empty when it only expands)."""
    code = _code(statement)
    words = code.split()
    if not words:
        return []
    if words[0] == "DO":
        return ["opaque"]
    if words[0] == "TRUNCATE":
        return ["drop"]
    if words[0] == "DROP":
        return [] if len(words) > 1 and words[1] in _HARMLESS_DROPS else ["drop"]
    if words[0] != "ALTER":
        return []
    if len(words) > 1 and words[1] == "TABLE":
        table = _ALTER_TABLE.match(code)
        if table is None or not table.group("actions"):
            return ["opaque"]  # not understood, so not proven safe
        return sorted(set(_alter_table_kinds(table.group("actions"))))
    padded = f" {code} "
    kinds = []
    # ALTER INDEX/VIEW/FUNCTION/TYPE/SEQUENCE/SCHEMA ... RENAME [TO|VALUE|ATTRIBUTE]
    if " RENAME " in padded:
        kinds.append("rename")
    if len(words) > 1 and words[1] == "TYPE":  # composite types: DROP/ALTER ATTRIBUTE
        if " DROP ATTRIBUTE " in padded:
            kinds.append("drop")
        if re.search(r" ALTER ATTRIBUTE (?:\?|\w+) (?:SET DATA )?TYPE ", padded):
            kinds.append("type-change")
    return sorted(kinds)


def _header_end(text: str) -> int:
    """Index of the first line that is not blank and not a ``--`` comment."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return index
    return len(lines)


def read_marker(text: str) -> tuple[ContractMarker | None, list[str]]:
    """The file's contract marker, and errors for malformed or misplaced marker lines."""
    header_end = _header_end(text)
    marker: ContractMarker | None = None
    errors: list[str] = []
    for index, line in enumerate(text.splitlines()):
        if not MARKER_PREFIX.match(line):
            continue
        where = f"line {index + 1}"
        if index >= header_end:
            errors.append(f"{where}: the contract marker must be in the header comment")
            continue
        match = MARKER.match(line)
        if match is None:
            errors.append(f"{where}: malformed contract marker, expected {MARKER_FORMAT!r}")
            continue
        try:
            reviewed_on = date.fromisoformat(match.group("date"))
        except ValueError:
            errors.append(f"{where}: {match.group('date')!r} is not a date")
            continue
        if marker is not None:
            errors.append(f"{where}: a second contract marker")
            continue
        marker = ContractMarker(match.group("reviewer"), reviewed_on, match.group("reason"))
    return marker, errors


def check_text(text: str, path: Path) -> FileReport:
    """Check the SQL ``text`` of the migration at ``path``."""
    findings: list[Finding] = []
    cursor = 0
    for statement in split_statements(text):
        position = text.find(statement, cursor)
        cursor = position + len(statement) if position >= 0 else cursor
        line = text.count("\n", 0, max(position, 0) + _code_offset(statement)) + 1
        findings.extend(
            Finding(path, line, kind, statement) for kind in statement_kinds(statement)
        )
    marker, errors = read_marker(text)
    return FileReport(path, tuple(findings), marker, tuple(errors))


def check_file(path: Path) -> FileReport:
    """Check one migration file."""
    return check_text(path.read_text(encoding="utf-8"), path)


def check_folder(folder: Path = DEFAULT_MIGRATIONS_DIR) -> list[FileReport]:
    """Check every ``*.sql`` file of ``folder`` in name order."""
    return [check_file(path) for path in sorted(folder.glob("*.sql"))]


def render(reports: Sequence[FileReport]) -> str:
    """A human-readable summary: failures first, then reviewed contract migrations."""
    lines: list[str] = []
    for report in reports:
        lines.extend(f"{report.path.name}: {error}" for error in report.marker_errors)
        if report.findings and report.marker is None:
            lines.extend(f"FAIL {finding.text()}" for finding in report.findings)
    for report in reports:
        if report.marker is not None and not report.marker_errors:
            marker = report.marker
            lines.append(
                f"contract {report.path.name}: reviewed by {marker.reviewer} on "
                f"{marker.reviewed_on.isoformat()}: {marker.reason} "
                f"({len(report.findings)} destructive statement(s) accepted)"
            )
    failed = sum(not report.passed for report in reports)
    lines.append(
        f"{len(reports)} migration(s) checked, {failed} failing"
        + ("" if not failed else f"; mark a reviewed contract with {MARKER_FORMAT!r}")
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Check a folder (default ``service/migrations``); exit 1 if any file fails."""
    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args[0]) if args else DEFAULT_MIGRATIONS_DIR
    if not folder.is_dir():
        print(f"no such folder: {folder}", file=sys.stderr)
        return 2
    reports = check_folder(folder)
    print(render(reports))
    return 0 if all(report.passed for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
