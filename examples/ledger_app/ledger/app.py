"""``build_app()``: the ledger team's CDK app (``cdk.json`` runs ``python -m ledger.app``)."""

from __future__ import annotations

import aws_cdk as cdk

from ledger.stack import LedgerStack

LEDGER_ENV = cdk.Environment(account="444455556666", region="eu-west-1")


def build_app() -> cdk.App:
    """The unsynthesised app: what ``python -m constructs_lib.gate ledger.app:build_app`` runs."""
    app = cdk.App()
    LedgerStack(app, "LedgerService", env=LEDGER_ENV, alert_emails=["ledger-oncall@example.org"])
    return app


if __name__ == "__main__":
    from constructs_lib.gate import attach_packs

    ledger_app = build_app()
    attach_packs(ledger_app)  # a plain `cdk synth` then fails on any finding
    ledger_app.synth()
