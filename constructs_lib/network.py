"""An isolated VPC: private subnets with no route to or from the internet, flow-logged.

The platform's Lambda runs outside any VPC and reaches Aurora through the RDS Data
API, so the VPC only hosts the database: it has no internet gateway, no NAT gateway,
no endpoints and no subnets other than ``PRIVATE_ISOLATED``. Its default security
group is stripped of all rules and every flow (accepted and rejected) is logged to
a KMS-encrypted log group.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.acceptance import accept
from constructs_lib.log_storage import as_retention, retention_days
from constructs_lib.opt_outs import OptOut, SecureDefaultError, reject_unknown_opt_outs, weaken_if

__all__ = ["PrivateNetwork"]

MIN_AZS = 2
OPT_OUT_SETTINGS = ("PrivateNetwork.flow_log_retention", "PrivateNetwork.flow_log_removal_policy")
_MIN_FLOW_LOG_RETENTION = logs.RetentionDays.ONE_YEAR


class PrivateNetwork(Construct):
    """VPC with only isolated subnets, a closed default security group and flow logs.

    Example
    -------
    ::

        network = PrivateNetwork(self, "Network", log_key=keys.logs, max_azs=3)
        SecureAuroraCluster(self, "Db", network=network, ...)

    Parameters
    ----------
    log_key:
        KMS key encrypting the flow-log group (the ``logs`` key of
        :class:`~constructs_lib.encryption_keys.EncryptionKeys`).
    max_azs:
        Availability zones to spread subnets over; at least 2.
    cidr:
        IPv4 range of the VPC.
    subnet_configuration:
        Custom subnet layout; every entry must be ``PRIVATE_ISOLATED``.
    flow_log_retention:
        Retention of the flow-log group, as ``RetentionDays`` or a day count (default one
        year; shorter needs an opt-out).
    flow_log_removal_policy:
        ``RETAIN`` (default); anything else needs an opt-out.
    opt_outs:
        Explicit, recorded weakenings of the defaults above.

    Raises
    ------
    SecureDefaultError
        If a public or egress subnet is requested (there is no opt-out for that).
    ValueError
        If ``max_azs`` is below 2.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        log_key: kms.IKey,
        max_azs: int = MIN_AZS,
        cidr: str = "10.0.0.0/16",
        subnet_configuration: Sequence[ec2.SubnetConfiguration] | None = None,
        flow_log_retention: logs.RetentionDays | int = _MIN_FLOW_LOG_RETENTION,
        flow_log_removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        reject_unknown_opt_outs(opt_outs, OPT_OUT_SETTINGS)
        if max_azs < MIN_AZS:
            raise ValueError(f"PrivateNetwork needs max_azs >= {MIN_AZS}, got {max_azs}.")
        subnets = list(subnet_configuration or [
            ec2.SubnetConfiguration(
                name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            )
        ])
        exposed = [s.name for s in subnets if s.subnet_type != ec2.SubnetType.PRIVATE_ISOLATED]
        if exposed or not subnets:
            raise SecureDefaultError(
                f"PrivateNetwork only has PRIVATE_ISOLATED subnets; refused {exposed or 'none'}. "
                "Nothing here needs internet access: the Lambda is outside the VPC and uses "
                "the RDS Data API."
            )
        flow_log_retention = as_retention(flow_log_retention)
        too_short = retention_days(flow_log_retention) < retention_days(_MIN_FLOW_LOG_RETENTION)
        weaken_if(self, too_short,
                  setting="PrivateNetwork.flow_log_retention", opt_outs=opt_outs,
                  weakened=f"flow_log_retention {flow_log_retention.name}")
        weaken_if(self, flow_log_removal_policy != cdk.RemovalPolicy.RETAIN,
                  setting="PrivateNetwork.flow_log_removal_policy", opt_outs=opt_outs,
                  weakened=f"flow_log_removal_policy {flow_log_removal_policy}")

        self._vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=max_azs,
            nat_gateways=0,
            create_internet_gateway=False,
            subnet_configuration=subnets,
            restrict_default_security_group=True,
            enable_dns_hostnames=True,
            enable_dns_support=True,
        )
        restrict = self._vpc.node.try_find_child("RestrictDefaultSecurityGroupCustomResource")
        if restrict is not None:
            accept(restrict, ("BankGrade-LambdaInvokedViaAlias",),
                   "CDK's provider that strips the default security group's rules "
                   "(restrict_default_security_group): CloudFormation invokes it only during "
                   "deployments; it serves no traffic and is not a CodeDeploy-shifted function.")
        self._flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=log_key,
            retention=flow_log_retention,
            removal_policy=flow_log_removal_policy,
        )
        self._flow_log = self._vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                self._flow_log_group, self._flow_log_role(self._flow_log_group)
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _flow_log_role(self, log_group: logs.ILogGroup) -> iam.IRole:
        """Role for the flow-log service: write to this one group, confused-deputy guarded.

        The permissions sit in a customer-managed policy (inline policies are flagged by
        the NIST/HIPAA/PCI packs) and the role is handed over immutable so CDK adds no
        inline default policy of its own.
        """
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "FlowLogRole",
            description="VPC flow logs delivery to the encrypted flow-log group",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com").with_conditions({
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": stack.format_arn(
                    service="ec2", resource="vpc-flow-log", resource_name="*")},
            }),
        )
        iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            description="Write VPC flow-log records to one log group",
            roles=[role],
            statements=[iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn],
            )],
        )
        return role.without_policy_updates()

    @property
    def vpc(self) -> ec2.IVpc:
        """The VPC."""
        return self._vpc

    @property
    def isolated_subnets(self) -> ec2.SubnetSelection:
        """Selection of the isolated subnets (the only ones there are)."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    @property
    def flow_log_group(self) -> logs.ILogGroup:
        """The encrypted log group receiving the VPC flow logs."""
        return self._flow_log_group

    @property
    def flow_log(self) -> ec2.FlowLog:
        """The VPC flow log (all traffic)."""
        return self._flow_log

