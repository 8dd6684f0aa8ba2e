"""A small stand-in app for the gate tests (the real app is tested in tests/app)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sns as sns

from constructs_lib.opt_outs import OptOut, record_opt_out

ENV = cdk.Environment(account="111111111111", region="eu-west-2")


def builder(
    outdir: Path,
    *,
    stages: Sequence[str] = ("standin",),
    gateway: bool = True,
    topic: bool = False,
    topic_opt_out: OptOut | None = None,
) -> Callable[[], cdk.App]:
    """Return a function building an app with one ``Net`` stack per stage.

    ``gateway`` adds an internet gateway (only BankGrade flags it); ``topic``
    adds an unencrypted L1 SNS topic without a TLS policy, which four cdk-nag
    packs and BankGrade flag; ``topic_opt_out`` records a construct opt-out on it.
    """

    def build() -> cdk.App:
        app = cdk.App(outdir=str(outdir))
        for name in stages:
            stage = cdk.Stage(app, name, env=ENV)
            stack = cdk.Stack(stage, "Net")
            if gateway:
                ec2.CfnInternetGateway(stack, "Igw")
            if topic:
                topic_construct = sns.CfnTopic(stack, "Topic")
                if topic_opt_out is not None:
                    record_opt_out(topic_construct, topic_opt_out)
        return app

    return build
