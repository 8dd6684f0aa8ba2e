"""Settings keep the API's database identity apart from the owner's."""

from __future__ import annotations

import pytest

from service.settings import Settings, SettingsError

CLUSTER = "arn:aws:rds:eu-west-2:123456789012:cluster:api"
APP_SECRET = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:app-AbCdEf"
OWNER_SECRET = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:owner-AbCdEf"


def test_owner_and_app_secrets_are_read_from_their_own_names() -> None:
    settings = Settings.from_env({"DB_CLUSTER_ARN": CLUSTER, "DB_SECRET_ARN": APP_SECRET,
                                  "DB_OWNER_SECRET_ARN": OWNER_SECRET,
                                  "DATABASE_OWNER_URL": "postgresql://owner@/x"})
    assert settings.db_secret_arn == APP_SECRET
    assert settings.db_owner_secret_arn == OWNER_SECRET
    assert settings.database_owner_url == "postgresql://owner@/x"


def test_the_api_refuses_the_owner_secret_as_its_own() -> None:
    with pytest.raises(SettingsError, match="not the owner's"):
        Settings.from_env({"DB_CLUSTER_ARN": CLUSTER, "DB_SECRET_ARN": OWNER_SECRET,
                           "DB_OWNER_SECRET_ARN": OWNER_SECRET})
