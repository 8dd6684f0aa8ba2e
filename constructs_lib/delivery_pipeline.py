"""``DeliveryPipeline``: a self-updating CDK Pipeline (CodePipeline V2, CodeBuild), secure defaults.

What you get
------------
* Source from a repository connection (CodeStar Connections ARN, ``owner/repo``,
  branch); a synth step running the caller's checks, then ``cdk synth``
  (``primary_output_directory``); self-mutation; the pipeline's stages deployed in
  order with change sets through each target account's CDK bootstrap roles
  (``cdk bootstrap --trust <pipeline account>``).
* Artifacts in a bucket of its own: SSE-KMS with the artifacts key (a rotating CMK the
  caller passes, usable from the target accounts' deploy roles), TLS-only, versioned,
  public access blocked, server access logs into a second bucket.
* Every CodeBuild project (synth, self-update, asset publishing, extra steps)
  encrypted with the artifacts key and logging to one CloudWatch log group encrypted
  with the logs key; no privileged (Docker) mode.
* :meth:`add_stage_deployment` adds a stage with optional smoke-test steps after it
  and an optional manual approval before it.

Acknowledged by design (reasons in the compliance report): the wildcard object
paths CDK Pipelines grants on its own artifact bucket and the CodeBuild report groups
of its own projects, the access-log bucket using SSE-S3 (the only encryption S3
server access logging supports) and not logging itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from constructs_lib.acceptance import accept, wildcard_finding_ids
from constructs_lib.access_log_bucket import REPLICATION_RULES, server_access_log_bucket
from constructs_lib.log_storage import allow_cloudwatch_logs

__all__ = ["DeliveryPipeline", "SmokeTest"]

BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0


class SmokeTest:
    """A CodeBuild step run after a stage deploys (e.g. health and one authenticated call).

    Parameters
    ----------
    name:
        Step name (unique in the pipeline).
    commands:
        Shell commands, run in the source checkout.
    env_from_outputs:
        Environment variables taken from the deployed stacks' outputs.
    env:
        Plain environment values (names and ARNs, never secrets).
    policy:
        What the step may do (e.g. read the smoke-test user's secret).
    """

    def __init__(self, *, name: str, commands: Sequence[str],
                 env_from_outputs: Mapping[str, cdk.CfnOutput] | None = None,
                 env: Mapping[str, str] | None = None,
                 policy: Sequence[iam.PolicyStatement] = ()) -> None:
        self.name = name
        self.commands = tuple(commands)
        self.env_from_outputs = dict(env_from_outputs or {})
        self.env = dict(env or {})
        self.policy = tuple(policy)


class DeliveryPipeline(Construct):
    """A CDK Pipeline from a repository connection to the stages added to it.

    Parameters
    ----------
    connection_arn, repository, branch:
        The CodeStar/CodeConnections connection, ``owner/repo`` and branch to build.
    synth_commands:
        Commands of the synth step; they must end with the synthesis into
        ``primary_output_directory`` (the same checks and gate as CI run first).
    log_key:
        CMK of the CodeBuild log group.
    install_commands:
        Commands before ``synth_commands`` (toolchain setup).
    primary_output_directory:
        The cloud assembly the synth step leaves; default ``cdk.out``.
    pipeline_name:
        Physical name of the pipeline.
    log_retention:
        Retention of the build logs; default one year.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        connection_arn: str,
        repository: str,
        branch: str,
        synth_commands: Sequence[str],
        log_key: kms.IKey,
        install_commands: Sequence[str] = (),
        primary_output_directory: str = "cdk.out",
        pipeline_name: str | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, id_)
        if "/" not in repository:
            raise ValueError(f"repository must be 'owner/name', got {repository!r}")
        if not synth_commands:
            raise ValueError("synth_commands must run the checks and synthesise.")
        self._access_logs = _access_log_bucket(self)
        allow_cloudwatch_logs(log_key, self)
        self._build_logs = logs.LogGroup(self, "BuildLogs", encryption_key=log_key,
                                         retention=log_retention,
                                         removal_policy=cdk.RemovalPolicy.RETAIN)
        build_defaults = pipelines.CodeBuildOptions(
            build_environment=codebuild.BuildEnvironment(
                build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.MEDIUM,
                privileged=False),
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self._build_logs)),
            timeout=cdk.Duration.minutes(90),
        )
        self._source = pipelines.CodePipelineSource.connection(
            repository, branch, connection_arn=connection_arn, trigger_on_push=True)
        self._pipeline = pipelines.CodePipeline(
            self, "Pipeline",
            pipeline_name=pipeline_name,
            pipeline_type=codepipeline.PipelineType.V2,
            # CDK Pipelines creates the artifact bucket (and one per extra region, in its
            # support stacks) with a rotating CMK usable from the target accounts.
            cross_account_keys=True,
            enable_key_rotation=True,
            synth=pipelines.CodeBuildStep(
                "Synth",
                input=self._source,
                install_commands=list(install_commands),
                commands=list(synth_commands),
                primary_output_directory=primary_output_directory,
            ),
            self_mutation=True,
            use_change_sets=True,
            docker_enabled_for_synth=False,
            docker_enabled_for_self_mutation=False,
            publish_assets_in_parallel=False,
            code_build_defaults=build_defaults,
        )
        self._waves: list[str] = []

    # --- building ------------------------------------------------------------------------

    def add_stage_deployment(
        self, stage: cdk.Stage, *, approval: str | None = None,
        smoke_tests: Sequence[SmokeTest] = (),
    ) -> pipelines.StageDeployment:
        """Deploy ``stage`` next: after a manual ``approval`` (its comment), then smoke tests."""
        pre: list[pipelines.Step] = (
            [pipelines.ManualApprovalStep(f"Approve-{stage.stage_name}", comment=approval)]
            if approval else [])
        post: list[pipelines.Step] = [
            pipelines.CodeBuildStep(
                test.name,
                input=self._source,
                commands=list(test.commands),
                env=test.env,
                env_from_cfn_outputs=test.env_from_outputs,
                role_policy_statements=list(test.policy),
            )
            for test in smoke_tests
        ]
        self._waves.append(stage.stage_name)
        return self._pipeline.add_stage(stage, pre=pre, post=post)

    def build(self) -> None:
        """Finish the pipeline (after the last stage) and accept its design findings."""
        self._pipeline.build_pipeline()
        self._harden_artifact_buckets()
        self._accept_pipeline_design()

    # --- read-only resources -------------------------------------------------------------

    @property
    def pipeline(self) -> pipelines.CodePipeline:
        """The CDK Pipelines construct (``.pipeline`` is the CodePipeline after build)."""
        return self._pipeline

    @property
    def artifact_bucket(self) -> s3.IBucket:
        """The SSE-KMS (rotating CMK), TLS-only, access-logged artifact bucket."""
        return self._pipeline.pipeline.artifact_bucket

    @property
    def build_log_group(self) -> logs.LogGroup:
        """The CodeBuild log group (logs key)."""
        return self._build_logs

    @property
    def stage_order(self) -> tuple[str, ...]:
        """Stage names in deployment order."""
        return tuple(self._waves)

    # --- internals -----------------------------------------------------------------------

    def _harden_artifact_buckets(self) -> None:
        """Access logs, TLS 1.2, versioning and ownership on every artifact bucket."""
        buckets: list[tuple[s3.IBucket, s3.Bucket]] = [
            (self._pipeline.pipeline.artifact_bucket, self._access_logs)]
        for region, support in self._pipeline.pipeline.cross_region_support.items():
            logs_bucket = _access_log_bucket(support.stack, id_=f"AccessLogs-{region}")
            buckets.append((support.replication_bucket, logs_bucket))
            accept(support.replication_bucket, ("BankGrade-CustomerManagedKey",),
                   "Encrypted with the support stack's own rotating CMK, referenced through "
                   "its alias (how CDK Pipelines names the key across regions), which the "
                   "rule cannot resolve to a key.")
        for bucket, logs_bucket in buckets:
            cfn = bucket.node.default_child
            assert isinstance(cfn, s3.CfnBucket)
            cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
                destination_bucket_name=logs_bucket.bucket_name,
                log_file_prefix=f"{cdk.Names.unique_id(bucket)}/")
            cfn.versioning_configuration = s3.CfnBucket.VersioningConfigurationProperty(
                status="Enabled")
            cfn.ownership_controls = s3.CfnBucket.OwnershipControlsProperty(
                rules=[s3.CfnBucket.OwnershipControlsRuleProperty(
                    object_ownership="BucketOwnerEnforced")])
            cfn.lifecycle_configuration = s3.CfnBucket.LifecycleConfigurationProperty(
                rules=[s3.CfnBucket.RuleProperty(
                    id="expire-old-artifacts", status="Enabled",
                    noncurrent_version_expiration=s3.CfnBucket.NoncurrentVersionExpirationProperty(
                        noncurrent_days=90),
                    abort_incomplete_multipart_upload=(
                        s3.CfnBucket.AbortIncompleteMultipartUploadProperty(
                            days_after_initiation=7)))])
            bucket.add_to_resource_policy(iam.PolicyStatement(
                sid="DenyTlsBelow12", effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()], actions=["s3:*"],
                resources=[bucket.bucket_arn, bucket.arn_for_objects("*")],
                conditions={"NumericLessThan": {"s3:TlsVersion": "1.2"}}))
            accept(bucket, REPLICATION_RULES,
                   "Pipeline artifacts are rebuilt from the repository on every run; a "
                   "replica would only double the copies of build output.")

    def _accept_pipeline_design(self) -> None:
        """Accept, by exact finding id, what CDK Pipelines grants its own roles.

        Each generated policy's wildcard grants are listed one by one (so a later grant
        with a new wildcard is *not* covered): object paths in its own artifact buckets,
        the ``Abort*``/``GetBucket*``/``List*`` and KMS ``GenerateDataKey*``/``ReEncrypt*``
        groups of CDK's bucket and key grants, CodeBuild report groups and log streams
        named after its own projects, and the roles of the target accounts' CDK bootstrap
        (``cdk-*``), whose own policies carry the real limits.
        """
        stack = cdk.Stack.of(self)
        for construct in self._pipeline.node.find_all():
            if isinstance(construct, iam.CfnPolicy):
                document = stack.resolve(construct.policy_document)
                ids = sorted(wildcard_finding_ids(document))
                if ids:
                    accept(construct, ids, _GENERATED_GRANTS_REASON)
                accept(construct, _INLINE_RULES, _INLINE_REASON)
                if _has_data_action_on_any_resource(document):
                    accept(construct, ("BankGrade-NoWildcardPermissions",),
                           "CDK Pipelines' pipeline and self-update roles read stack "
                           "descriptions and assume the bootstrap roles of the target "
                           "accounts, which name no resource in advance; the bootstrap "
                           "roles' own policies limit what is deployed.")
            if isinstance(construct, codebuild.CfnProject):
                accept(construct, ("HIPAA.Security-CodeBuildProjectSourceRepoUrl",
                                   "PCI.DSS.321-CodeBuildProjectSourceRepoUrl"),
                       "The project's source is the pipeline artifact (type CODEPIPELINE) "
                       "fetched through the repository connection; no URL or credential "
                       "is stored in the project.")


def _access_log_bucket(scope: Construct, *, id_: str = "AccessLogs") -> s3.Bucket:
    """The server access logs of the artifact buckets."""
    return server_access_log_bucket(
        scope, id_=id_, logs_of="the artifact buckets'", content="artifact content",
        replication_reason="Access logs of the build artifact buckets are operational "
                           "telemetry kept versioned; a cross-region replica adds nothing a "
                           "rebuild could not.")


_GENERATED_GRANTS_REASON = (
    "Grants CDK Pipelines generates for its own roles: objects of its own artifact "
    "buckets, the action groups of CDK's bucket and key grants on those buckets' CMKs, "
    "report groups and log streams of its own CodeBuild projects, and the target "
    "accounts' CDK bootstrap roles (cdk-*), which carry the real limits."
)
_INLINE_RULES = ("NIST.800.53.R5-IAMNoInlinePolicy", "HIPAA.Security-IAMNoInlinePolicy",
                 "PCI.DSS.321-IAMNoInlinePolicy")
_INLINE_REASON = (
    "CDK Pipelines attaches each generated policy to exactly one of its own roles and "
    "deploys it with the pipeline; a managed policy would be a separately mutable object."
)


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _has_data_action_on_any_resource(document: dict[str, object]) -> bool:
    return any(isinstance(st, dict) and "*" in _as_list(st.get("Resource", []))
               for st in _as_list(document.get("Statement", [])))
