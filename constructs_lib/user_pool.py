"""The family user pool: email sign-in, mandatory TOTP MFA, full threat protection.

One public app client serves the front ends: no client secret (a browser or phone
cannot keep one), SRP sign-in plus refresh tokens only, no OAuth / implicit flow, short
access and ID tokens, revocable and rotating refresh tokens, and no hint whether an
account exists. There is deliberately no identity pool, so no unauthenticated AWS
identities exist at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from constructs_lib.opt_outs import OptOut, reject_unknown_opt_outs, weaken_if

__all__ = ["FamilyUserPool"]

OPT_OUT_SETTINGS = (
    "FamilyUserPool.deletion_protection",
    "FamilyUserPool.removal_policy",
    "FamilyUserPool.refresh_token_rotation",
)
_SHORT_TOKEN_MINUTES = (15, 60)
_MAX_REFRESH_DAYS = 30
_MIN_PASSWORD_LENGTH = 12


class FamilyUserPool(Construct):
    """Cognito user pool and the front ends' app client, secure by default.

    Example
    -------
    ::

        users = FamilyUserPool(self, "Users", self_sign_up=True)
        env = {"COGNITO_USER_POOL_ID": users.user_pool.user_pool_id,
               "COGNITO_CLIENT_ID": users.client.user_pool_client_id}
        # JWT issuer to verify: users.issuer_url

    Parameters
    ----------
    self_sign_up:
        Whether people can register themselves (email verification and MFA still apply).
    user_pool_name:
        Optional explicit pool name.
    email:
        Sending configuration (use SES in production; the Cognito default is rate-limited).
    password_min_length:
        At least 12; upper, lower, digit and symbol are always required.
    temporary_password_validity:
        How long an admin-issued temporary password stays valid (1-7 days).
    access_token_validity, id_token_validity:
        15-60 minutes (default 15).
    refresh_token_validity:
        At most 30 days (default 7).
    refresh_token_rotation:
        Rotate refresh tokens on use (default on; off needs an opt-out).
    deletion_protection:
        On by default; off needs an opt-out.
    removal_policy:
        ``RETAIN`` (default); anything else needs an opt-out.
    opt_outs:
        Explicit, recorded weakenings of the defaults above.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        self_sign_up: bool = False,
        user_pool_name: str | None = None,
        email: cognito.UserPoolEmail | None = None,
        password_min_length: int = _MIN_PASSWORD_LENGTH,
        temporary_password_validity: cdk.Duration | None = None,
        access_token_validity: cdk.Duration | None = None,
        id_token_validity: cdk.Duration | None = None,
        refresh_token_validity: cdk.Duration | None = None,
        refresh_token_rotation: bool = True,
        deletion_protection: bool = True,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        opt_outs: Sequence[OptOut] = (),
    ) -> None:
        super().__init__(scope, id_)
        reject_unknown_opt_outs(opt_outs, OPT_OUT_SETTINGS)
        access = access_token_validity or cdk.Duration.minutes(15)
        id_token = id_token_validity or cdk.Duration.minutes(15)
        refresh = refresh_token_validity or cdk.Duration.days(7)
        temporary = temporary_password_validity or cdk.Duration.days(3)
        low, high = _SHORT_TOKEN_MINUTES
        for name, value in (("access_token_validity", access), ("id_token_validity", id_token)):
            if not low <= value.to_minutes() <= high:
                raise ValueError(f"{name} must be {low}-{high} minutes, got {value.to_minutes()}.")
        if not 60 <= refresh.to_minutes() <= _MAX_REFRESH_DAYS * 24 * 60:
            raise ValueError(f"refresh_token_validity must be 1 hour to {_MAX_REFRESH_DAYS} days.")
        if password_min_length < _MIN_PASSWORD_LENGTH or password_min_length > 99:
            raise ValueError(f"password_min_length must be {_MIN_PASSWORD_LENGTH}-99.")
        if not 1 <= temporary.to_days() <= 7:
            raise ValueError("temporary_password_validity must be 1-7 days.")

        weaken_if(self, not deletion_protection, setting="FamilyUserPool.deletion_protection",
                  opt_outs=opt_outs, weakened="deletion_protection=False")
        weaken_if(self, removal_policy != cdk.RemovalPolicy.RETAIN,
                  setting="FamilyUserPool.removal_policy", opt_outs=opt_outs,
                  weakened=f"removal_policy {removal_policy}")
        weaken_if(self, not refresh_token_rotation,
                  setting="FamilyUserPool.refresh_token_rotation", opt_outs=opt_outs,
                  weakened="refresh_token_rotation=False")

        self._user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=user_pool_name,
            self_sign_up_enabled=self_sign_up,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False, email=False),
            enable_sms_role=False,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            password_policy=cognito.PasswordPolicy(
                min_length=password_min_length,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=temporary,
                password_history_size=12,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            email=email,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        self._client = self._user_pool.add_client(
            "WebClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=access,
            id_token_validity=id_token,
            refresh_token_validity=refresh,
            refresh_token_rotation_grace_period=(
                cdk.Duration.seconds(10) if refresh_token_rotation else None
            ),
            auth_session_validity=cdk.Duration.minutes(3),
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, given_name=True,
                                      family_name=True, locale=True),
            write_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, given_name=True, family_name=True,
                                      locale=True),
        )

    @property
    def user_pool(self) -> cognito.IUserPool:
        """The user pool."""
        return self._user_pool

    @property
    def client(self) -> cognito.IUserPoolClient:
        """The front ends' public app client (``COGNITO_CLIENT_ID``)."""
        return self._client

    @property
    def issuer_url(self) -> str:
        """JWT issuer, ``https://cognito-idp.<region>.amazonaws.com/<pool id>``."""
        return self._user_pool.user_pool_provider_url
