"""The offline insights CLI: ``python -m service.insights categorise|recurring|runway``.

Reads JSON lines (a file, or ``-`` for stdin), one transaction per line::

    {"id", "account_id", "date": "YYYY-MM-DD", "amount": "-12.34", "currency", "description",
     "merchant_name" (optional), "provider_category" (optional)}

Every malformed line is reported on stderr as ``FILE:LINE: problem`` and the command exits
with status 1 without writing results: nothing is silently dropped. Blank lines are skipped.
Money is written as decimal strings; series ids are deterministic for the same input, so a
``cancel:<id>`` scenario can use an id from an earlier ``recurring`` run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Final

from service.insights.categorisation import categorise
from service.insights.errors import InsightsError, InvalidTransactionError
from service.insights.model import Transaction
from service.insights.recurring import Series, detect_recurring
from service.insights.runway import DEFAULT_HORIZON_DAYS, Runway, Scenario, runway

_REQUIRED: Final = ("id", "account_id", "date", "amount", "currency", "description")
_OPTIONAL: Final = ("merchant_name", "provider_category")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AMOUNT = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_MAX_HORIZON_DAYS: Final = 3660


class _InputError(Exception):
    """Malformed input lines, with their messages (already prefixed with file and line)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_date(value: object, what: str) -> date:
    """A strict ``YYYY-MM-DD`` date."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise InvalidTransactionError(f"{what} must be a date string YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidTransactionError(f"{what} {value!r} is not a calendar date") from None


def parse_amount(value: object, what: str) -> Decimal:
    """A decimal string such as ``"-12.34"`` (JSON numbers are refused: floats lose pennies)."""
    if not isinstance(value, str) or not _AMOUNT.match(value.strip()):
        raise InvalidTransactionError(f'{what} must be a decimal string such as "-12.34"')
    try:
        return Decimal(value.strip())
    except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
        raise InvalidTransactionError(f"{what} {value!r} is not a number") from None


def parse_transaction(record: object) -> Transaction:
    """One transaction from a decoded JSON line."""
    if not isinstance(record, dict):
        raise InvalidTransactionError("each line must be a JSON object")
    unknown = sorted(set(record) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise InvalidTransactionError(f"unknown field(s): {', '.join(unknown)}")
    missing = [k for k in _REQUIRED if k not in record]
    if missing:
        raise InvalidTransactionError(f"missing field(s): {', '.join(missing)}")
    for key in ("id", "account_id", "currency", "description"):
        if not isinstance(record[key], str):
            raise InvalidTransactionError(f"{key} must be a string")
    if not record["id"]:
        raise InvalidTransactionError("id must not be empty")
    for key in _OPTIONAL:
        if record.get(key) is not None and not isinstance(record[key], str):
            raise InvalidTransactionError(f"{key} must be a string or null")
    return Transaction(
        id=record["id"],
        account_id=record["account_id"],
        booked=parse_date(record["date"], "date"),
        amount=parse_amount(record["amount"], "amount"),
        currency=record["currency"],
        description=record["description"],
        merchant_name=record.get("merchant_name") or None,
        provider_category=record.get("provider_category") or None,
    )


def read_transactions(stream: IO[str], name: str) -> list[Transaction]:
    """Every transaction of a JSON-lines stream, or :class:`_InputError` listing each bad line."""
    transactions: list[Transaction] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{name}:{number}: not valid JSON ({error.msg})")
            continue
        try:
            txn = parse_transaction(record)
        except InvalidTransactionError as error:
            problems.append(f"{name}:{number}: {error}")
            continue
        if txn.id in seen:
            first = seen[txn.id]
            problems.append(f"{name}:{number}: duplicate id {txn.id!r} (first on line {first})")
            continue
        seen[txn.id] = number
        transactions.append(txn)
    if problems:
        raise _InputError(problems)
    return transactions


def _money(value: Decimal) -> str:
    return format(value, "f")


def _optional_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def series_json(series: Series) -> dict[str, Any]:
    """A series in the CLI's format (exactly the documented keys)."""
    return {
        "id": series.id,
        "direction": series.direction,
        "merchant": series.merchant,
        "frequency": series.frequency,
        "average_amount": _money(series.average_amount),
        "last_amount": _money(series.last_amount),
        "last_date": series.last_date.isoformat(),
        "next_date": _optional_date(series.next_date),
        "next_amount": None if series.next_amount is None else _money(series.next_amount),
        "status": series.status,
        "transaction_ids": list(series.transaction_ids),
    }


def runway_json(result: Runway) -> dict[str, Any]:
    """A runway in the CLI's format (exactly the documented keys)."""
    return {
        "as_of": result.as_of.isoformat(),
        "horizon_days": result.horizon_days,
        "runway_days": result.runway_days,
        "zero_date": _optional_date(result.zero_date),
        "below_buffer_date": _optional_date(result.below_buffer_date),
        "discretionary_daily": _money(result.discretionary_daily),
        "daily": [{"date": d.isoformat(), "balance": _money(b)} for d, b in result.daily],
    }


def parse_scenarios(values: Sequence[str]) -> Scenario:
    """``income_stops``, ``cancel:<series id>`` and ``expense:<YYYY-MM-DD>:<amount>``."""
    income_stops = False
    cancelled: list[str] = []
    expenses: list[tuple[date, Decimal]] = []
    for value in values:
        kind, _, rest = value.partition(":")
        if kind == "income_stops" and not rest:
            income_stops = True
        elif kind == "cancel" and rest:
            cancelled.append(rest)
        elif kind == "expense" and rest.count(":") == 1:
            day, amount = rest.split(":")
            expenses.append((parse_date(day, "expense date"), parse_amount(amount, "expense")))
        else:
            raise InsightsError(
                f"unknown scenario {value!r}: use income_stops, cancel:<series id> or "
                "expense:<YYYY-MM-DD>:<amount>"
            )
    return Scenario(income_stops, tuple(cancelled), tuple(expenses))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m service.insights",
        description="Money insights over exported transactions (JSON lines; '-' for stdin).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cat = commands.add_parser("categorise", help="one category line per transaction")
    cat.add_argument("file")
    rec = commands.add_parser("recurring", help="recurring series as of a date")
    rec.add_argument("file")
    rec.add_argument("--as-of", required=True)
    run = commands.add_parser("runway", help="how long the balance lasts")
    run.add_argument("file")
    run.add_argument("--balance", required=True)
    run.add_argument("--as-of", required=True)
    run.add_argument("--buffer")
    run.add_argument("--horizon", type=int, default=DEFAULT_HORIZON_DAYS)
    run.add_argument("--scenario", action="append", default=[])
    return parser


def _open(name: str, stdin: IO[str]) -> Iterator[IO[str]]:
    if name == "-":
        yield stdin
        return
    with open(name, encoding="utf-8") as stream:
        yield stream


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 bad input, 2 bad usage)."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        for stream in _open(args.file, stdin):
            transactions = read_transactions(stream, "<stdin>" if args.file == "-" else args.file)
        _run(args, transactions, stdout)
    except _InputError as error:
        for problem in error.problems:
            print(problem, file=stderr)
        return 1
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        return 1
    except OSError as error:
        print(f"{args.file}: {error.strerror or error}", file=stderr)
        return 1
    except UnicodeDecodeError:
        print(f"{args.file}: not UTF-8 text", file=stderr)
        return 1
    except InsightsError as error:
        print(f"error: {error}", file=stderr)
        return 2
    return 0


def _run(args: argparse.Namespace, transactions: list[Transaction], stdout: IO[str]) -> None:
    if args.command == "categorise":
        for category in categorise(transactions):
            line = {
                "id": category.transaction_id,
                "category": category.category,
                "confidence": category.confidence,
                "source": category.source,
            }
            stdout.write(json.dumps(line) + "\n")
        return
    as_of = parse_date(args.as_of, "--as-of")
    series = detect_recurring(transactions, as_of=as_of)
    if args.command == "recurring":
        stdout.write(json.dumps({"series": [series_json(s) for s in series]}) + "\n")
        return
    if not 1 <= args.horizon <= _MAX_HORIZON_DAYS:
        raise InsightsError(f"--horizon must be between 1 and {_MAX_HORIZON_DAYS} days")
    buffer = None if args.buffer is None else parse_amount(args.buffer, "--buffer")
    categories = {r.transaction_id: r.category for r in categorise(transactions)}
    known = [t for t in transactions if t.booked <= as_of]
    result = runway(
        known,
        balance=parse_amount(args.balance, "--balance"),
        as_of=as_of,
        series=series,
        categories=categories,
        horizon_days=args.horizon,
        buffer=buffer,
        scenario=parse_scenarios(args.scenario),
    )
    stdout.write(json.dumps(runway_json(result)) + "\n")
