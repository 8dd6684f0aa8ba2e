"""The offline CLI: exact formats, stdin, malformed lines, deterministic ids across runs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from devtools.households import generate_household
from devtools.households.export import json_lines
from service.insights.cli import main

AS_OF = "2024-12-31"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    household = generate_household(23, start=date(2023, 1, 1), end=date(2024, 12, 31))
    path = tmp_path_factory.mktemp("cli") / "txns.jsonl"
    path.write_text("".join(json_lines(household.transactions)), encoding="utf-8")
    return path


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def is_money(value: object) -> bool:
    return isinstance(value, str) and value.lstrip("-").replace(".", "", 1).isdigit()


def test_categorise_writes_one_line_per_transaction(export: Path) -> None:
    code, out, err = run("categorise", str(export))
    assert (code, err) == (0, "")
    lines = [json.loads(line) for line in out.splitlines()]
    ids = [json.loads(line)["id"] for line in export.read_text().splitlines()]
    assert [line["id"] for line in lines] == ids
    for line in lines:
        assert set(line) == {"id", "category", "confidence", "source"}
        assert isinstance(line["confidence"], float) and 0 < line["confidence"] <= 1


def test_recurring_format(export: Path) -> None:
    code, out, _ = run("recurring", str(export), "--as-of", AS_OF)
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"series"} and document["series"]
    statuses = set()
    for s in document["series"]:
        assert set(s) == {"id", "direction", "merchant", "frequency", "average_amount",
                          "last_amount", "last_date", "next_date", "next_amount", "status",
                          "transaction_ids"}  # fmt: skip
        assert s["direction"] in {"inflow", "outflow"}
        assert s["frequency"] in {"weekly", "fortnightly", "four_weekly", "monthly",
                                  "quarterly", "annual"}  # fmt: skip
        assert is_money(s["average_amount"]) and is_money(s["last_amount"])
        date.fromisoformat(s["last_date"])
        statuses.add(s["status"])
        if s["status"] == "active":
            assert is_money(s["next_amount"]) and date.fromisoformat(s["next_date"])
        else:
            assert s["next_date"] is None and s["next_amount"] is None
        assert s["transaction_ids"] and all(isinstance(i, str) for i in s["transaction_ids"])
    assert statuses <= {"active", "ended"}


def test_runway_format_and_a_cancel_from_an_earlier_run(export: Path) -> None:
    _, out, _ = run("recurring", str(export), "--as-of", AS_OF)
    first = json.loads(out)["series"]
    _, again, _ = run("recurring", str(export), "--as-of", AS_OF)
    assert json.loads(again)["series"] == first  # deterministic ids and content
    outflow = next(s for s in first if s["direction"] == "outflow" and s["status"] == "active")

    base = ["runway", str(export), "--balance", "1500.00", "--as-of", AS_OF, "--horizon", "60"]
    code, out, _ = run(*base, "--buffer", "250")
    assert code == 0
    plain = json.loads(out)
    assert set(plain) == {"as_of", "horizon_days", "runway_days", "zero_date",
                          "below_buffer_date", "discretionary_daily", "daily"}  # fmt: skip
    assert plain["as_of"] == AS_OF and plain["horizon_days"] == 60
    assert is_money(plain["discretionary_daily"])
    assert len(plain["daily"]) == 60
    assert all(set(d) == {"date", "balance"} and is_money(d["balance"]) for d in plain["daily"])
    assert plain["daily"][0]["date"] == "2025-01-01"

    code, out, _ = run(*base, "--buffer", "250", "--scenario", f"cancel:{outflow['id']}")
    assert code == 0
    cancelled = json.loads(out)
    last = float(cancelled["daily"][-1]["balance"]) - float(plain["daily"][-1]["balance"])
    assert last > 0  # a cancelled payment leaves more money

    code, out, _ = run(*base, "--scenario", "income_stops", "--scenario",
                       "expense:2025-01-10:300.00")  # fmt: skip
    assert code == 0
    assert float(json.loads(out)["daily"][-1]["balance"]) < float(plain["daily"][-1]["balance"])


def test_stdin(export: Path) -> None:
    code, out, _ = run("categorise", "-", stdin=export.read_text())
    assert code == 0 and len(out.splitlines()) == len(export.read_text().splitlines())


GOOD = '{"id": "a", "account_id": "x", "date": "2024-01-02", "amount": "-1.50", "currency": "GBP", "description": "TESCO"}'  # noqa: E501


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"id": "b"}', "missing field(s): account_id, date, amount, currency, description"),
        (GOOD.replace('"-1.50"', "-1.5"), "amount must be a decimal string"),
        (GOOD.replace('"-1.50"', '"1,50"'), "amount must be a decimal string"),
        (GOOD.replace("2024-01-02", "2024-02-30"), "is not a calendar date"),
        (GOOD.replace("2024-01-02", "02/01/2024"), "date must be a date string YYYY-MM-DD"),
        (GOOD.replace('"TESCO"', "7"), "description must be a string"),
        (GOOD[:-1] + ', "merchant": "Tesco"}', "unknown field(s): merchant"),
        (GOOD[:-1] + ', "merchant_name": 5}', "merchant_name must be a string or null"),
        (GOOD, "duplicate id 'a' (first on line 1)"),
    ],
)
def test_malformed_lines_are_reported_with_their_line_number(line: str, problem: str) -> None:
    for command in (["categorise"], ["recurring", "--as-of", AS_OF]):
        code, out, err = run(command[0], "-", *command[1:], stdin=f"{GOOD}\n\n{line}\n")
        assert code == 1
        assert out == ""  # nothing half-written
        assert err.startswith("<stdin>:3: ") and problem in err


def test_every_bad_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{GOOD}\nnope\n{GOOD.replace('a', 'b', 1)}\n{{}}\n", encoding="utf-8")
    code, _, err = run("categorise", str(path))
    assert code == 1
    assert [line.split(": ")[0] for line in err.splitlines()] == [f"{path}:2", f"{path}:4"]


@pytest.mark.parametrize(
    "argv",
    [
        ["runway", "-", "--balance", "10", "--as-of", AS_OF, "--scenario", "moon"],
        ["runway", "-", "--balance", "10", "--as-of", AS_OF, "--scenario", "cancel:rs_none"],
        ["runway", "-", "--balance", "ten", "--as-of", AS_OF],
        ["runway", "-", "--balance", "10", "--as-of", AS_OF, "--horizon", "0"],
        ["recurring", "-", "--as-of", "31/12/2024"],
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv: list[str]) -> None:
    code, out, err = run(*argv, stdin=GOOD + "\n")
    assert (code, out) == (2, "")
    assert err.startswith("error: ")


def test_runway_refuses_mixed_currencies() -> None:
    euro = GOOD.replace('"id": "a"', '"id": "b"').replace("GBP", "EUR")
    code, out, err = run(
        "runway", "-", "--balance", "10", "--as-of", AS_OF, stdin=f"{GOOD}\n{euro}\n"
    )
    assert (code, out) == (2, "")
    assert "EUR, GBP" in err


def test_missing_file_and_usage() -> None:
    code, _, err = run("categorise", "/nonexistent/file.jsonl")
    assert code == 1 and "/nonexistent/file.jsonl" in err
    assert run("recurring", "-")[0] == 2  # --as-of is required


def test_module_entry_point(export: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.insights", "recurring", "-", "--as-of", AS_OF],
        input=export.read_text(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["series"]
