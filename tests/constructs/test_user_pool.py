"""FamilyUserPool: TOTP-only mandatory MFA, threat protection, a locked-down public client."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from constructs_lib.opt_outs import OPT_OUT_METADATA_KEY, OptOut, SecureDefaultError
from constructs_lib.user_pool import FamilyUserPool

ENV = cdk.Environment(account="111111111111", region="eu-west-2")
REASON = "Disposable test stack holding only synthetic users."


def _setup(app: cdk.App, **kwargs: Any) -> tuple[cdk.Stack, FamilyUserPool]:
    stack = cdk.Stack(app, "Id", env=ENV)
    return stack, FamilyUserPool(stack, "Users", **kwargs)


def _one(template: Template, type_: str) -> dict[str, Any]:
    (resource,) = template.find_resources(type_).values()
    return resource


def test_user_pool_security_settings(app: cdk.App) -> None:
    stack, _ = _setup(app, self_sign_up=True)
    pool = _one(Template.from_stack(stack), "AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["MfaConfiguration"] == "ON"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert "SmsConfiguration" not in props
    assert props["UserPoolTier"] == "PLUS"
    assert props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    for cls in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"):
        assert policy[cls] is True
    assert 1 <= policy["TemporaryPasswordValidityDays"] <= 7
    assert policy["PasswordHistorySize"] >= 12
    assert props["UsernameAttributes"] == ["email"]
    assert props["AutoVerifiedAttributes"] == ["email"]
    assert props["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert props["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == "Retain"


def test_self_sign_up_is_off_by_default(app: cdk.App) -> None:
    stack, _ = _setup(app)
    props = _one(Template.from_stack(stack), "AWS::Cognito::UserPool")["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_public_client_is_locked_down(app: cdk.App) -> None:
    stack, _ = _setup(app)
    props = _one(Template.from_stack(stack), "AWS::Cognito::UserPoolClient")["Properties"]
    assert props["GenerateSecret"] is False
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is False
    assert "AllowedOAuthFlows" not in props and "CallbackURLs" not in props
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["EnableTokenRevocation"] is True
    assert props["RefreshTokenRotation"]["Feature"] == "ENABLED"
    units = props["TokenValidityUnits"]
    assert units == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"}
    assert 15 <= props["AccessTokenValidity"] <= 60
    assert 15 <= props["IdTokenValidity"] <= 60
    assert props["RefreshTokenValidity"] <= 30 * 24 * 60
    assert "email_verified" not in props["WriteAttributes"]


def test_no_identity_pool(app: cdk.App) -> None:
    stack, _ = _setup(app)
    Template.from_stack(stack).resource_count_is("AWS::Cognito::IdentityPool", 0)


def test_issuer_url(app: cdk.App) -> None:
    stack, users = _setup(app)
    pool_id = stack.get_logical_id(users.user_pool.node.default_child)  # type: ignore[arg-type]
    assert stack.resolve(users.issuer_url) == {"Fn::GetAtt": [pool_id, "ProviderURL"]}


@pytest.mark.parametrize(
    "kwargs",
    [{"access_token_validity": cdk.Duration.minutes(5)},
     {"access_token_validity": cdk.Duration.hours(2)},
     {"id_token_validity": cdk.Duration.hours(24)},
     {"refresh_token_validity": cdk.Duration.days(31)},
     {"password_min_length": 8},
     {"temporary_password_validity": cdk.Duration.days(14)}],
)
def test_out_of_policy_values_are_refused(app: cdk.App, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _setup(app, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [({"deletion_protection": False}, "FamilyUserPool.deletion_protection"),
     ({"removal_policy": cdk.RemovalPolicy.DESTROY}, "FamilyUserPool.removal_policy"),
     ({"refresh_token_rotation": False}, "FamilyUserPool.refresh_token_rotation")],
)
def test_weakening_needs_named_opt_out(app: cdk.App, kwargs: dict[str, Any], setting: str) -> None:
    stack = cdk.Stack(app, "Id", env=ENV)
    with pytest.raises(SecureDefaultError, match=setting):
        FamilyUserPool(stack, "Denied", **kwargs)
    users = FamilyUserPool(stack, "Allowed", opt_outs=[OptOut(setting, REASON)], **kwargs)
    records = [e.data for e in users.node.metadata if e.type == OPT_OUT_METADATA_KEY]
    assert records == [{"setting": setting, "reason": REASON, "findings": []}]


def test_rotation_off_restores_refresh_flow(app: cdk.App) -> None:
    stack, _ = _setup(app, refresh_token_rotation=False,
                      opt_outs=[OptOut("FamilyUserPool.refresh_token_rotation", REASON)])
    props = _one(Template.from_stack(stack), "AWS::Cognito::UserPoolClient")["Properties"]
    assert "RefreshTokenRotation" not in props
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def test_compliance_packs_report_nothing(app: cdk.App, nag_findings: Any) -> None:
    _setup(app, self_sign_up=True)
    assert nag_findings(app) == set()
