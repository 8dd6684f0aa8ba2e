"""EncryptionKeys: rotating CMKs per data class, usage limited by key policy."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from constructs_lib.encryption_keys import DataClass, DirectKeyUse, EncryptionKeys
from constructs_lib.opt_outs import OPT_OUT_METADATA_KEY, OptOut, SecureDefaultError

ENV = cdk.Environment(account="111111111111", region="eu-west-2")
REASON = "Disposable test stack holding only synthetic data."


def _stack(app: cdk.App) -> cdk.Stack:
    return cdk.Stack(app, "Keys", env=ENV)


def _keys_by_alias(template: Template) -> dict[str, dict[str, Any]]:
    aliases = template.find_resources("AWS::KMS::Alias")
    keys = template.find_resources("AWS::KMS::Key")
    return {
        alias["Properties"]["AliasName"]: keys[alias["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]]
        for alias in aliases.values()
    }


def _statements(key: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}


def test_one_rotating_retained_key_per_class(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test")
    template = Template.from_stack(stack)

    by_alias = _keys_by_alias(template)
    assert set(by_alias) == {f"alias/ffp/test/{c.value}" for c in DataClass}
    for key in by_alias.values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["Properties"]["RotationPeriodInDays"] == 365
        assert key["Properties"]["PendingWindowInDays"] == 30
        assert key["DeletionPolicy"] == "Retain"
        assert key["UpdateReplacePolicy"] == "Retain"


def test_subset_of_classes(app: cdk.App) -> None:
    stack = _stack(app)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="ffp/edge", classes=[DataClass.LOGS])
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 1)
    assert keys.logs is keys.keys[DataClass.LOGS]
    with pytest.raises(KeyError, match="database"):
        _ = keys.database


def test_root_administers_but_cannot_use_keys(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test")
    for alias, key in _keys_by_alias(Template.from_stack(stack)).items():
        admin = _statements(key)["KeyAdministrationByAccount"]
        actions = set(admin["Action"])
        assert "kms:PutKeyPolicy" in actions and "kms:ScheduleKeyDeletion" in actions
        crypto = {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:*"}
        assert not actions & crypto, alias
        assert not any(a.startswith(("kms:GenerateDataKey", "kms:ReEncrypt")) for a in actions)
        assert "Condition" not in admin


def test_database_and_secrets_keys_usable_only_through_their_service(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test")
    by_alias = _keys_by_alias(Template.from_stack(stack))
    for alias, service in (("database", "rds"), ("secrets", "secretsmanager")):
        statements = _statements(by_alias[f"alias/ffp/test/{alias}"])
        use = statements["UseThroughServices"]
        assert use["Condition"]["StringEquals"] == {
            "kms:CallerAccount": "111111111111",
            "kms:ViaService": [f"{service}.eu-west-2.amazonaws.com"],
        }
        grants = statements["GrantsForServiceResources"]
        assert "kms:CreateGrant" in grants["Action"]
        assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
        assert grants["Condition"]["StringEquals"]["kms:ViaService"] == [
            f"{service}.eu-west-2.amazonaws.com"
        ]
        # No unconditioned use path exists on these keys.
        for sid, statement in statements.items():
            if sid != "KeyAdministrationByAccount":
                assert "Condition" in statement, (alias, sid)


def _logs_statement(stack: cdk.Stack) -> dict[str, Any]:
    statements = _statements(_keys_by_alias(Template.from_stack(stack))["alias/ffp/test/logs"])
    assert set(statements) == {"KeyAdministrationByAccount", "CloudWatchLogsForTheseLogGroups"}
    logs = statements["CloudWatchLogsForTheseLogGroups"]
    assert logs["Principal"] == {"Service": "logs.eu-west-2.amazonaws.com"}
    return logs


def test_logs_key_only_for_this_stacks_log_groups(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test", classes=[DataClass.LOGS])
    arns = _logs_statement(stack)["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    # Not the account's every log group: only those CloudFormation names for this stack.
    assert [stack.resolve(a) for a in arns] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                          f":logs:eu-west-2:111111111111:log-group:{stack.stack_name}-*"]]}]


def test_logs_key_accepts_the_named_prefixes_of_sharing_stacks(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test", classes=[DataClass.LOGS],
                   log_group_prefixes=["staging-Api-"])
    arns = _logs_statement(stack)["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert [stack.resolve(a)["Fn::Join"][1][-1].split("log-group:")[1] for a in arns] == [
        f"{stack.stack_name}-*", "staging-Api-*"]
    with pytest.raises(ValueError, match="without"):
        EncryptionKeys(stack, "More", alias_prefix="ffp/more", classes=[DataClass.LOGS],
                       log_group_prefixes=["*"])


def test_extra_via_services(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test", classes=[DataClass.WORKFLOW_STATE],
                   extra_via_services={DataClass.WORKFLOW_STATE: ["lambda"]})
    key = _keys_by_alias(Template.from_stack(stack))["alias/ffp/test/workflow_state"]
    services = _statements(key)["UseThroughServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert services == [f"{s}.eu-west-2.amazonaws.com"
                        for s in ("states", "sqs", "dynamodb", "scheduler", "s3", "lambda")]


def test_grant_encrypt_decrypt_is_per_key(app: cdk.App) -> None:
    stack = _stack(app)
    keys = EncryptionKeys(stack, "Keys", alias_prefix="ffp/test",
                          classes=[DataClass.TOKENS, DataClass.DATABASE])
    role = iam.Role(stack, "Fn", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    keys.grant_encrypt_decrypt(DataClass.TOKENS, role)
    template = Template.from_stack(stack)
    policies = template.find_resources("AWS::IAM::Policy")
    (policy,) = policies.values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    tokens_id = stack.get_logical_id(keys.tokens.node.default_child)  # type: ignore[arg-type]
    assert statement["Resource"] == {"Fn::GetAtt": [tokens_id, "Arn"]}
    assert statement["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    # Without DirectKeyUse nobody may use the tokens key outside its AWS services.
    tokens_key = _keys_by_alias(template)["alias/ffp/test/tokens"]
    assert not {"DirectUseByTaggedPrincipalsWithContext",
                "DirectUseByAccountPrincipalsWithIamPermission"} & set(_statements(tokens_key))


def test_direct_use_needs_the_principal_tag_and_a_family_context(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test", classes=[DataClass.TOKENS],
                   direct_use=DirectKeyUse(principal_tag="ffp:tokens-key-user",
                                           principal_tag_value="ffp-test"))
    key = _keys_by_alias(Template.from_stack(stack))["alias/ffp/test/tokens"]
    statements = _statements(key)
    direct = statements["DirectUseByTaggedPrincipalsWithContext"]
    assert direct["Condition"] == {
        "StringEquals": {"kms:CallerAccount": "111111111111",
                         "aws:PrincipalTag/ffp:tokens-key-user": "ffp-test"},
        "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["family"]},
        "Null": {"kms:EncryptionContextKeys": "false"},
        "StringLike": {"kms:EncryptionContext:family": "?*"},
    }
    # No statement lets an account principal use the key without the tag or a service.
    for sid, statement in statements.items():
        uses = {a for a in _as_list(statement["Action"]) if a in {
            "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*"}}
        if uses and "AWS" in statement["Principal"]:
            condition = statement["Condition"]
            assert ("aws:PrincipalTag/ffp:tokens-key-user" in condition.get("StringEquals", {})
                    or "kms:ViaService" in condition.get("StringEquals", {})), sid


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"removal_policy": cdk.RemovalPolicy.DESTROY}, "EncryptionKeys.removal_policy"),
        ({"pending_window": cdk.Duration.days(7)}, "EncryptionKeys.pending_window"),
        ({"rotation_period": cdk.Duration.days(730)}, "EncryptionKeys.rotation_period"),
    ],
)
def test_weakening_needs_named_opt_out(app: cdk.App, kwargs: dict[str, Any], setting: str) -> None:
    stack = _stack(app)
    with pytest.raises(SecureDefaultError, match=setting):
        EncryptionKeys(stack, "Denied", alias_prefix="ffp/test", **kwargs)
    wrong = OptOut(setting="SecureAuroraCluster.deletion_protection", reason=REASON)
    with pytest.raises(SecureDefaultError, match=setting):
        EncryptionKeys(stack, "WrongOptOut", alias_prefix="ffp/test", opt_outs=[wrong], **kwargs)

    keys = EncryptionKeys(stack, "Allowed", alias_prefix="ffp/test", classes=[DataClass.LOGS],
                          opt_outs=[OptOut(setting=setting, reason=REASON), wrong], **kwargs)
    records = [e.data for e in keys.node.metadata if e.type == OPT_OUT_METADATA_KEY]
    assert records == [{"setting": setting, "reason": REASON, "findings": []}]


def test_shorter_rotation_is_not_a_weakening(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test", classes=[DataClass.LOGS],
                   rotation_period=cdk.Duration.days(90))
    Template.from_stack(stack).has_resource_properties(
        "AWS::KMS::Key", {"RotationPeriodInDays": 90, "EnableKeyRotation": True})


def test_grant_in_another_stack_touches_no_key_policy(app: cdk.App) -> None:
    data = _stack(app)
    keys = EncryptionKeys(data, "Keys", alias_prefix="ffp/test", classes=[DataClass.TOKENS])
    api = cdk.Stack(app, "Api", env=ENV)
    role = iam.Role(api, "Fn", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    keys.grant_encrypt_decrypt(DataClass.TOKENS, role)
    keys.grant_decrypt(DataClass.TOKENS, role)
    app.synth()  # a reference cycle between the stacks would raise here
    assert api.dependencies == [data]
    (key,) = Template.from_stack(data).find_resources("AWS::KMS::Key").values()
    assert "Api" not in str(key["Properties"]["KeyPolicy"])


def test_typo_in_own_opt_out_is_rejected(app: cdk.App) -> None:
    with pytest.raises(SecureDefaultError, match="Unknown opt-out"):
        EncryptionKeys(_stack(app), "Keys", alias_prefix="ffp/test",
                       opt_outs=[OptOut(setting="EncryptionKeys.rotation", reason=REASON)])


@pytest.mark.parametrize("prefix", ["", "alias/ffp", "aws/ffp"])
def test_bad_alias_prefix(app: cdk.App, prefix: str) -> None:
    with pytest.raises(ValueError, match="alias_prefix"):
        EncryptionKeys(_stack(app), "Keys", alias_prefix=prefix)


def test_compliance_packs_report_nothing(app: cdk.App, nag_findings: Any) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test")
    assert nag_findings(app) == set()


def test_matches_kms_alias_name_on_every_key(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test", classes=[DataClass.SECRETS])
    Template.from_stack(stack).has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": "alias/ffp/test/secrets",
                            "TargetKeyId": Match.any_value()})


def test_compliance_packs_do_flag_a_plain_key(app: cdk.App, nag_findings: Any) -> None:
    # Guards the test above against a silently inactive checker.
    kms.Key(_stack(app), "Plain", enable_key_rotation=False)
    assert ("AwsSolutions-KMS5", "Keys/Plain/Resource") in nag_findings(app)


def test_workflow_state_log_delivery_is_for_this_account_only(app: cdk.App) -> None:
    stack = _stack(app)
    EncryptionKeys(stack, "Keys", alias_prefix="ffp/test",
                   classes=[DataClass.WORKFLOW_STATE, DataClass.SECRETS])
    keys = _keys_by_alias(Template.from_stack(stack))
    delivery = _statements(keys["alias/ffp/test/workflow_state"])[
        "StepFunctionsLogDeliveryOfThisAccount"]
    assert delivery["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert delivery["Action"] == "kms:Decrypt"
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    assert "StepFunctionsLogDeliveryOfThisAccount" not in _statements(
        keys["alias/ffp/test/secrets"])
