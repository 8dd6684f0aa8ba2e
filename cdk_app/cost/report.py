"""The per-stage cost report: idle month and marginal million requests, as text or data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from cdk_app.cost.assembly import Stage
from cdk_app.cost.idle import idle_findings
from cdk_app.cost.model import Finding, Free, LineItem, Unpriced
from cdk_app.cost.prices import PriceTable, UsageModel, Verification, weakest
from cdk_app.cost.traffic import per_million_findings


@dataclass(frozen=True)
class Group:
    """Lines of one category, stack and price, added up."""

    stack: str
    category: str
    count: int
    quantity: float
    unit: str
    unit_usd: float
    usd: float
    basis: str
    verified: Verification


def _groups(lines: list[LineItem]) -> list[Group]:
    grouped: dict[tuple[str, str, str, float], list[LineItem]] = defaultdict(list)
    for line in lines:
        grouped[(line.stack, line.category, line.price.key, line.price.usd)].append(line)
    groups = []
    for (stack, category, _, unit_usd), members in grouped.items():
        bases = sorted({m.basis for m in members})
        basis = "; ".join(bases)
        groups.append(Group(
            stack=stack, category=category, count=len(members),
            quantity=sum(m.quantity for m in members), unit=members[0].price.unit,
            unit_usd=unit_usd, usd=sum(m.usd for m in members),
            basis=basis if len(basis) <= 80 else basis[:77] + "...",
            verified=weakest([m.verified for m in members]),
        ))
    return groups


@dataclass(frozen=True)
class StageReport:
    """What one stage costs idle for a month, and per million requests."""

    stage: str
    regions: tuple[str, ...]
    idle: tuple[LineItem, ...]
    idle_free: tuple[Free, ...]
    idle_unpriced: tuple[Unpriced, ...]
    per_million: tuple[LineItem, ...]
    per_million_unpriced: tuple[Unpriced, ...]
    nat_gateways: int

    @property
    def idle_usd(self) -> float:
        """Monthly cost with zero traffic (priced lines only)."""
        return sum(line.usd for line in self.idle)

    @property
    def per_million_usd(self) -> float:
        """Cost of one million more API requests (priced lines only)."""
        return sum(line.usd for line in self.per_million)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for ``--json``)."""

        def lines(items: tuple[LineItem, ...]) -> list[dict[str, Any]]:
            return [{
                "stack": g.stack, "category": g.category, "resources": g.count,
                "quantity": g.quantity, "unit": g.unit, "unit_usd": g.unit_usd,
                "usd": round(g.usd, 4), "basis": g.basis, "verified": g.verified,
            } for g in _groups(list(items))]

        def unpriced(items: tuple[Unpriced, ...]) -> list[dict[str, str]]:
            return [{"stack": u.stack, "logical_id": u.logical_id, "type": u.resource_type,
                     "reason": u.reason} for u in items]

        return {
            "stage": self.stage,
            "regions": list(self.regions),
            "idle_usd_per_month": round(self.idle_usd, 2),
            "per_million_requests_usd": round(self.per_million_usd, 2),
            "nat_gateways": self.nat_gateways,
            "idle": lines(self.idle),
            "idle_unpriced": unpriced(self.idle_unpriced),
            "free_resources": len(self.idle_free),
            "per_million": lines(self.per_million),
            "per_million_unpriced": unpriced(self.per_million_unpriced),
        }


def _split(findings: list[Finding]) -> tuple[list[LineItem], list[Free], list[Unpriced]]:
    return (
        [f for f in findings if isinstance(f, LineItem)],
        [f for f in findings if isinstance(f, Free)],
        [f for f in findings if isinstance(f, Unpriced)],
    )


def build_report(stage: Stage, prices: PriceTable, usage: UsageModel) -> StageReport:
    """Price one stage of a cloud assembly."""
    idle, free, idle_unpriced = _split(idle_findings(stage, prices, usage))
    traffic, _, traffic_unpriced = _split(per_million_findings(stage, prices, usage))
    return StageReport(
        stage=stage.name,
        regions=tuple(sorted({stack.region for stack in stage.stacks})),
        idle=tuple(idle),
        idle_free=tuple(free),
        idle_unpriced=tuple(idle_unpriced),
        per_million=tuple(traffic),
        per_million_unpriced=tuple(traffic_unpriced),
        nat_gateways=len(stage.of_type("AWS::EC2::NatGateway")),
    )


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e12:
        return f"{int(value):,}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def _unit_price(usd: float) -> str:
    return "$" + (f"{usd:.10f}".rstrip("0").rstrip(".") if usd < 0.01 else f"{usd:g}")


def _money(usd: float) -> str:
    return f"{usd:,.2f}" if usd == 0 or usd >= 0.01 else f"{usd:.4f}"


def _table(lines: tuple[LineItem, ...]) -> list[str]:
    rows = []
    for g in sorted(_groups(list(lines)), key=lambda g: (-g.usd, g.stack, g.category)):
        label = g.category + (f" ({g.count})" if g.count > 1 else "")
        qty = f"{_number(g.quantity)} {g.unit} @ {_unit_price(g.unit_usd)}"
        rows.append(f"    {g.stack:<14} {label:<30} {qty:<44} {_money(g.usd):>9}  "
                    f"{g.verified:<10} {g.basis}")
    return rows


def _free(items: tuple[Free, ...]) -> list[str]:
    by_type: dict[str, list[Free]] = defaultdict(list)
    for item in items:
        by_type[item.resource_type].append(item)
    rows = [f"  Free while idle ({len(items)} resources):"]
    for resource_type, members in sorted(by_type.items()):
        reasons = "; ".join(sorted({m.reason for m in members}))
        rows.append(f"    {resource_type} x{len(members)}: {reasons}")
    return rows


def _unpriced(items: tuple[Unpriced, ...]) -> list[str]:
    if not items:
        return ["  unpriced: none"]
    return [f"  UNPRICED ({len(items)}), not in the total:"] + [
        f"    {u.stack} {u.logical_id} ({u.resource_type}): {u.reason}" for u in items
    ]


def render(reports: list[StageReport], prices: PriceTable, usage: UsageModel) -> str:
    """The text ``make cost`` prints."""
    out = [
        f"Cost report from the synthesised templates; prices of {prices.as_of.isoformat()}"
        f" in {prices.currency} (cdk_app/cost/price_table.json), {prices.hours_per_month:g}"
        " h/month, no free tier.",
        "Price column: aws-page = read on the AWS pricing page, secondary = third-party"
        " quote of it, unverified = to check before relying on it.",
    ]
    for report in reports:
        out += [
            "",
            f"== {report.stage} ({', '.join(report.regions)})",
            "  Idle month, zero traffic:",
            *_table(report.idle),
            f"  NAT gateways: {report.nat_gateways or 'none'}",
            *_free(report.idle_free),
            *_unpriced(report.idle_unpriced),
            f"  IDLE TOTAL: ${report.idle_usd:,.2f} per month",
            "  One million more API requests:",
            *_table(report.per_million),
            *_unpriced(report.per_million_unpriced),
            f"  PER MILLION REQUESTS: ${report.per_million_usd:,.2f}",
        ]
    per = usage.per_request
    out += [
        "",
        f"Assumed per request: {per.lambda_duration_ms:g} ms in Lambda, {per.data_api_calls:g}"
        f" Data API calls, {per.response_kb:g} KB returned, {per.aurora_acu_seconds:g} ACU-s,"
        f" {per.lambda_log_bytes + per.api_access_log_bytes + per.waf_log_bytes:g} B logged;"
        f" idle: {usage.idle.aurora_storage_gb:g} GB in Aurora"
        f" (cdk_app/cost/usage_model.json).",
        "Not in the per-request figure: KMS and DynamoDB calls of the family keyring, Secrets"
        " Manager reads (cached in memory), Cognito monthly active users, Aurora I/O.",
    ]
    return "\n".join(out)
