"""Fixtures of the database tests (the plugin may also be registered at the root).

The adapter tests create scratch tables, so here ``database``, ``postgres_db`` and
``data_api_db`` run as the schema owner; tests of the app role's limits ask for
``app_database`` / ``app_postgres_db`` / ``app_data_api_db`` explicitly.
"""

from __future__ import annotations

import pytest

from service.db.data_api import DataApiDatabase
from service.db.port import Database
from service.db.postgres import PostgresDatabase
from tests.fixtures.postgres import *  # noqa: F403
from tests.fixtures.postgres import ADAPTERS


@pytest.fixture(params=ADAPTERS)
def database(request: pytest.FixtureRequest) -> Database:
    fixture = "owner_postgres_db" if request.param == "postgres" else "owner_data_api_db"
    db: Database = request.getfixturevalue(fixture)
    return db


@pytest.fixture
def postgres_db(owner_postgres_db: PostgresDatabase) -> PostgresDatabase:
    return owner_postgres_db


@pytest.fixture
def data_api_db(owner_data_api_db: DataApiDatabase) -> DataApiDatabase:
    return owner_data_api_db
