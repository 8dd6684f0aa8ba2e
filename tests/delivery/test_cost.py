"""The cost report against a small hand-computed assembly (never the real synthesis).

Fixture prices and usage are round and fictional (tests/delivery/fixtures/cost), so
each expected figure below is computed by hand in its comment.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cdk_app.cost import (
    build_report,
    idle,
    load_price_table,
    load_usage_model,
    read_assembly,
    traffic,
)
from cdk_app.cost.__main__ import main
from cdk_app.cost.idle import FREE, RULES
from cdk_app.cost.prices import DEFAULT_PRICE_TABLE, DEFAULT_USAGE_MODEL, PriceTable
from cdk_app.cost.report import StageReport

FIXTURES = Path(__file__).parent / "fixtures" / "cost"
ASSEMBLY = FIXTURES / "assembly"
PRICES = load_price_table(FIXTURES / "prices.json")
USAGE = load_usage_model(FIXTURES / "usage.json")


def report(stage: str = "demo", prices: PriceTable = PRICES) -> StageReport:
    (found,) = [s for s in read_assembly(ASSEMBLY) if s.name == stage]
    return build_report(found, prices, USAGE)


def totals(lines: object) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for line in lines:  # type: ignore[attr-defined]
        key = (line.stack, line.category)
        out[key] = round(out.get(key, 0.0) + line.usd, 6)
    return out


def test_the_idle_month_matches_the_hand_computation() -> None:
    demo = report()
    assert totals(demo.idle) == {
        ("demo-Data", "KMS keys"): 2.0,                   # 2 keys x $1 (eu-west-2)
        ("demo-Data", "Secrets Manager secrets"): 1.0,    # secret + RDS-managed master, x $0.5
        ("demo-Data", "Aurora storage"): 1.0,             # 10 GB x $0.1
        ("demo-Data", "Aurora compute"): 140.0,           # 2 instances x 1 ACU x 700 h x $0.1
        ("demo-Data", "CloudWatch alarms"): 0.3,          # 1 + 2 metrics (not the expression)
        ("demo-Data", "NAT gateways"): 35.0,              # 700 h x $0.05
        ("demo-Data", "CloudWatch log storage"): 0.06,    # 2 GB x $0.03
        ("demo-Edge", "KMS keys"): 2.0,                   # 1 key x $2 (us-east-1 price)
        ("demo-Edge", "WAF web ACLs"): 5.0,
        ("demo-Edge", "WAF rules"): 3.0,                  # 3 rules x $1
    }
    assert demo.idle_usd == pytest.approx(189.36)
    assert demo.nat_gateways == 1
    assert len(demo.idle_free) == 10


def test_unknown_types_and_unpriced_features_are_listed_not_counted() -> None:
    demo = report()
    assert sorted((u.logical_id, u.resource_type, u.reason) for u in demo.idle_unpriced) == [
        ("Acl", "AWS::WAFv2::WebACL",
         "premium managed rule group AWSManagedRulesBotControlRuleSet"),
        ("Gizmo", "AWS::Foo::Bar", "unknown resource type: no rule prices it"),
    ]


def test_one_million_requests_match_the_hand_computation() -> None:
    demo = report()
    assert totals(demo.per_million) == pytest.approx({
        ("demo-Edge", "CloudFront requests"): 1.0,        # 100 x 10k requests x $0.01
        ("demo-Edge", "CloudFront data transfer"): 0.1,   # 1 GiB x $0.1
        ("demo-Edge", "WAF requests"): 0.6,
        ("demo-Edge", "CloudWatch log ingestion"): 1.0,   # WAF: 2 GiB x $0.5 (us-east-1)
        ("demo-Data", "API Gateway HTTP API"): 1.0,
        ("demo-Data", "Lambda requests"): 0.2,
        ("demo-Data", "Lambda duration"): 2.0,            # 2 GB x 0.1 s x 1M x $0.00001
        ("demo-Data", "CloudWatch log ingestion"): 0.6,   # function: 1 GiB x $0.6
        ("demo-Data", "RDS Data API"): 0.8,               # 2 calls x $0.4
        ("demo-Data", "Aurora compute"): 1.0,             # 0.036 ACU-s x 1M / 3600 x $0.1
    })
    assert demo.per_million_usd == pytest.approx(8.3)
    assert demo.per_million_unpriced == ()


def test_a_missing_price_makes_the_line_unpriced_instead_of_free() -> None:
    prices = PRICES.model_copy(update={"prices": {
        key: entry for key, entry in PRICES.prices.items() if key != "vpc.nat_gateway_hour"
    }})
    demo = report(prices=prices)
    assert ("demo-Data", "NAT gateways") not in totals(demo.idle)
    assert [(u.logical_id, u.reason) for u in demo.idle_unpriced if u.logical_id == "Nat"] == [
        ("Nat", "no price 'vpc.nat_gateway_hour' in the table")
    ]
    assert demo.idle_usd == pytest.approx(189.36 - 35.0)


def test_a_stage_without_nat_or_costs_reports_zero_and_none() -> None:
    bare = report("bare")
    assert (bare.idle_usd, bare.per_million_usd, bare.nat_gateways) == (0.0, 0.0, 0)
    assert [f.resource_type for f in bare.idle_free] == ["AWS::IAM::Role"]


def test_the_command_prints_every_stage_with_totals_and_unpriced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--cdk-out", str(ASSEMBLY), "--prices", str(FIXTURES / "prices.json"),
            "--usage", str(FIXTURES / "usage.json")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "prices of 2026-01-01 in USD" in out
    demo = out[out.index("== demo"):]
    assert "IDLE TOTAL: $189.36 per month" in demo
    assert "PER MILLION REQUESTS: $8.30" in demo
    assert "UNPRICED (2), not in the total:" in demo
    assert "demo-Data Gizmo (AWS::Foo::Bar): unknown resource type: no rule prices it" in demo
    assert "NAT gateways: 1" in demo
    assert "Free while idle (10 resources):" in demo
    assert "    AWS::CloudFront::Distribution x1: no monthly fee" in demo
    bare = out[out.index("== bare"):out.index("== demo")]
    assert "NAT gateways: none" in bare and "IDLE TOTAL: $0.00 per month" in bare

    assert main([*args, "--stage", "demo", "--json"]) == 0
    (data,) = json.loads(capsys.readouterr().out)
    assert (data["stage"], data["idle_usd_per_month"], data["per_million_requests_usd"]) == (
        "demo", 189.36, 8.3)
    assert main([*args, "--stage", "nope"]) == 2
    assert "no stage nope" in capsys.readouterr().err


def test_the_repository_price_table_has_every_key_the_rules_use_in_both_regions() -> None:
    table = load_price_table(DEFAULT_PRICE_TABLE)
    usage = load_usage_model(DEFAULT_USAGE_MODEL)
    assert table.as_of.isoformat() == "2026-12-01" and table.currency == "USD"
    sources = "".join(Path(m.__file__).read_text() for m in (idle, traffic))  # type: ignore[arg-type]
    used = set(re.findall(r'"((?:[a-z0-9]+_?)+\.[a-z0-9_]+)"', sources))
    services = {key.split(".")[0] for key in table.prices}
    used = {key for key in used if key.split(".")[0] in services}  # not "db.serverless"
    used |= {f"lambda.gb_second_{arch}" for arch in ("arm64", "x86_64")}
    assert {"kms.key_month", "waf.web_acl_month", "aurora.data_api_per_million"} <= used
    for key in sorted(used):
        for region in ("eu-west-2", "us-east-1"):
            assert table.price(key, region).usd >= 0
    # And the fixture, priced with the real table, misses no price.
    (demo,) = [s for s in read_assembly(ASSEMBLY) if s.name == "demo"]
    real = build_report(demo, table, usage)
    reasons = [u.reason for u in (*real.idle_unpriced, *real.per_million_unpriced)]
    assert not [reason for reason in reasons if "no price" in reason]
    assert not set(RULES) & set(FREE), "a type is either priced by a rule or free"
