"""Property-based fuzzing of every operation of the generated OpenAPI document.

Schemathesis loads ``GET /openapi.json`` from the real app (in-process WSGI) on a
module-scoped database seeded with the demo family (owner, adult, child, a bank consent,
family and private accounts, ~200 transactions), and calls every operation as the family
owner with generated valid and invalid input. Path parameters are either generated (mostly
unknown or malformed ids) or real ids of the seeded data, so the deep paths run too.

Every answer must:

* never be a 5xx;
* be a status the document lists for the operation (no catch-all ``default``), with a
  body matching the documented schema and content type;
* for 4xx, be RFC 9457 problem details (``application/problem+json`` with ``type``,
  ``title``, ``status`` equal to the HTTP status, and a non-empty ``detail``);
* for a rejected (4xx) write, leave every domain table exactly as it was.

Two focused properties reach where schema-driven generation cannot: forged but decodable
pagination cursors, and aware consent expiries at the edges of the representable range.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import hypothesis.strategies as st
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, Case, GenerationMode, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from devtools.demo import DEMO_FAMILY_NAME, seed_demo
from devtools.dev_issuer import DEV_ISSUER, DevIssuer
from devtools.embedded import with_database, with_user
from devtools.llm_doubles import KeywordModel, openai_double
from devtools.sandbox_bank import SandboxBankServer
from service import create_app
from service.bootstrap import Services
from service.db.port import Database
from service.domain.models import Role
from service.domain.principal import Principal
from service.errors import PROBLEM_JSON
from service.http.context import SERVICES_KEY
from service.settings import Settings
from service.use_cases import chat as chat_uc
from service.use_cases import families as families_uc
from service.use_cases import invitations as invitations_uc
from tests.fixtures.postgres import _create_database, _drop_database
from tests.service.conftest import sandbox_providers, settle_syncs
from tests.service.domain.helpers import TABLES, add_connection

# One seed per module and worker: each worker that runs some of these tests seeds its own
# database, so the tests stay independent however pytest-xdist distributes them.

OWNER = "demo.owner@example.com"
SEED_TODAY = date(2025, 3, 31)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FUZZ_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same cases on every run: CI failures reproduce locally
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large],
)


def _principal(email: str) -> Principal:
    return Principal(issuer=DEV_ISSUER, subject=DevIssuer.subject_for(email), email=email)


@dataclass(frozen=True)
class Seeded:
    """The fuzzed app and its database."""

    app: Flask
    db: Database


def _ids(db: Database, sql: str, **params: Any) -> list[str]:
    return [str(row["id"]) for row in db.fetch_all(sql, params)]


def _seed(db: Database, services: Services) -> dict[tuple[str, str], list[dict[str, str]]]:
    """Seed through the app's own use cases; answer real path parameters per operation."""
    owner = _principal(OWNER)
    signer = services.audit_signer
    seed_demo(db, services.keyring, signer=signer, owner_email=OWNER, today=SEED_TODAY)
    family = _ids(db, "SELECT id FROM families WHERE name = :n", n=DEMO_FAMILY_NAME)[0]
    fid = UUID(family)
    # Sacrificial data for the destructive operations, so the demo family survives them.
    doomed = families_uc.create_family(db, signer, owner, name="Doomed family")
    members_family = families_uc.create_family(db, signer, owner, name="Members family")
    for name, role in (("spare.adult", Role.ADULT), ("spare.child", Role.CHILD)):
        issued = invitations_uc.invite(db, signer, owner, members_family.id,
                                       email=f"{name}@example.com", role=role)
        invitations_uc.accept_invitation(db, signer, _principal(f"{name}@example.com"),
                                         issued.token)
    spare_connection = add_connection(
        db, signer, services.keyring, owner, fid, provider="spare-bank",
        provider_ref=uuid.uuid4().hex, consent_expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    # Another family invites the owner (accept succeeds once) and one invitation for
    # someone else (the owner may not accept it).
    outsider = _principal("outsider@example.com")
    other = families_uc.create_family(db, signer, outsider, name="Other family")
    for_owner = invitations_uc.invite(db, signer, outsider, other.id, email=OWNER,
                                      role=Role.ADULT)
    for_other = invitations_uc.invite(db, signer, outsider, other.id,
                                      email="someone@example.com", role=Role.CHILD)

    accounts = _ids(db, "SELECT id FROM accounts WHERE family_id = :f", f=fid)
    transactions = _ids(
        db, "SELECT DISTINCT ON (account_id) id FROM transactions WHERE family_id = :f "
            "ORDER BY account_id, id", f=fid)
    # Not the owner's own membership: demoting it would lock the owner out of later tests.
    members = _ids(db, "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id "
                       "WHERE m.family_id = :f AND u.email <> :owner", f=fid, owner=OWNER)
    spare_members = _ids(db, "SELECT id FROM memberships WHERE family_id = :f",
                         f=members_family.id)
    connections = _ids(db, "SELECT id FROM connections WHERE family_id = :f", f=fid)
    fam = [{"fid": family}]
    conversation, doomed_conversation = (
        str(chat_uc.create_conversation(db, signer, services.keyring, owner, fid,
                                        policy=chat_uc.ChatPolicy()).id) for _ in range(2))
    return {
        ("GET", "/v1/conversations/{cid}"): [{"cid": conversation}],
        ("POST", "/v1/conversations/{cid}/messages"): [{"cid": conversation}],
        ("DELETE", "/v1/conversations/{cid}"): [{"cid": doomed_conversation}],
        ("DELETE", "/v1/families/{fid}"): [{"fid": str(doomed.id)}],
        ("DELETE", "/v1/families/{fid}/members/{mid}"): [
            {"fid": str(members_family.id), "mid": m} for m in spare_members],
        ("PATCH", "/v1/families/{fid}/members/{mid}"): [{"fid": family, "mid": m}
                                                         for m in members],
        ("DELETE", "/v1/families/{fid}/connections/{cid}"): [
            {"fid": family, "cid": str(spare_connection.id)}],
        ("*", "fid"): fam,
        ("*", "aid"): [{"aid": a} for a in accounts],
        ("*", "tid"): [{"tid": t} for t in transactions],
        ("*", "cid"): [{"fid": family, "cid": c} for c in connections],
        ("*", "token"): [{"token": for_owner.token}, {"token": for_other.token}],
    }


def _real_candidates(real: dict[tuple[str, str], list[dict[str, str]]], method: str,
                     path: str, names: set[str]) -> list[dict[str, str]]:
    exact = real.get((method, path))
    if exact is not None:
        return exact
    for name in sorted(names):
        found = [c for c in real.get(("*", name), [])
                 if set(c) == names]
        if found:
            return found
    return []


class _AppUnderTest:
    """WSGI entry point of the schema: the seeded app during the tests.

    Collection needs the operations before any fixture runs, so the document is read from
    an app that never opens its database; :func:`seeded` then swaps in the seeded app.
    (Schemathesis clones the schema per test, so the app itself cannot be swapped.)
    """

    def __init__(self) -> None:
        self.app: Flask = create_app(Settings(runtime="local", database_url="postgresql:///unused",
                                              dev_issuer=False, log_level="CRITICAL"))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self.app(environ, start_response)


APP_UNDER_TEST = _AppUnderTest()


class _Targets:
    """What :func:`seeded` publishes for the hooks: real path parameters, the owner's token."""

    by_operation: ClassVar[dict[tuple[str, str], list[dict[str, str]]]] = {}
    owner_token: ClassVar[str | None] = None


schema = schemathesis.openapi.from_wsgi(
    "/openapi.json", APP_UNDER_TEST, config=schemathesis.Config.from_dict({
        "seed": 20250331,
        # Tokens stay valid so generated input reaches validation; bad and missing tokens
        # are still probed by the ignored_auth check (and covered by tests/service/platform).
        "generation": {"with-security-parameters": False},
    }))


OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}


@schema.hook
def flatmap_case(context: HookContext, case: Case) -> st.SearchStrategy[Case]:
    """Half the time, swap generated ids for real ones so the deep paths run.

    Not when the path itself is the invalid part of a negative case: that must stay invalid.
    """
    if not case.path_parameters or (case.meta is not None
                                    and case.meta.is_negative_at(ParameterLocation.PATH)):
        return st.just(case)
    candidates = _real_candidates(_Targets.by_operation, case.method.upper(),
                                  case.operation.path, set(case.path_parameters))
    if not candidates:
        return st.just(case)
    return st.one_of(st.just(case), st.sampled_from(candidates).map(
        lambda real: _with_path_parameters(case, real)))


def _with_path_parameters(case: Case, path_parameters: dict[str, str]) -> Case:
    derived = case.derive()
    derived.path_parameters = dict(path_parameters)
    return derived


def _coverage_cases(operation: APIOperation) -> list[Case]:
    """Schemathesis's deterministic coverage cases: boundaries, wrong types, other methods."""
    config = schema.config.generation_for(operation=operation, phase="coverage")
    return list(schema.iter_coverage_cases(operation, generation_modes=list(GenerationMode),
                                           generation_config=config))


def _encoded_cursor(payload: object) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_CURSOR_VALUE = st.one_of(
    st.integers(), st.integers(min_value=2**62, max_value=2**70),  # around bigint's end
    st.booleans(), st.none(), st.text(max_size=12), st.dates().map(str), st.uuids().map(str))
# Cursors are opaque base64url JSON: random strings almost never decode, so the schema-driven
# generation never gets past the decoder. These do.
CURSORS = st.one_of(
    st.fixed_dictionaries({"s": _CURSOR_VALUE}),
    st.fixed_dictionaries({"d": _CURSOR_VALUE, "i": _CURSOR_VALUE}),
    st.dictionaries(st.sampled_from(["s", "d", "i", "x"]), _CURSOR_VALUE, max_size=3),
).map(_encoded_cursor)


def fingerprint(db: Database) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every domain table, computed in the database."""
    out: dict[str, tuple[int, str]] = {}
    for table in TABLES:
        row = db.fetch_one(
            f"SELECT count(*) AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))"
            f" AS digest FROM {table} x")
        assert row is not None
        out[table] = (int(row["n"]), str(row["digest"]))
    return out


def problem_details(ctx: Any, response: schemathesis.Response, case: Case) -> bool | None:
    """Every 4xx/5xx is ``application/problem+json`` with type, title, status and detail."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM_JSON), (
        f"{response.status_code} answered {content_type!r}, not {PROBLEM_JSON}")
    body = json.loads(response.content)
    missing = {"type", "title", "status", "detail"} - set(body)
    assert not missing, f"problem without {sorted(missing)}: {body}"
    assert body["status"] == response.status_code, body
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    return None


@pytest.fixture(scope="module")
def fuzz_database_url(pg_admin_url: str, pg_template: str, app_role: str,
                      app_role_password: str) -> Iterator[str]:
    """A migrated database of its own for this module (the seed is shared by its tests),
    reached as the application role."""
    name = f"test_fuzz_{uuid.uuid4().hex}"
    _create_database(pg_admin_url, name, template=pg_template)
    try:
        yield with_user(with_database(pg_admin_url, name), app_role, app_role_password)
    finally:
        _drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def seeded(fuzz_database_url: str, local_dir: Path,
           sandbox_bank: SandboxBankServer) -> Iterator[Seeded]:
    # Chat on, against the keyword model of the laptop double (its 503 "off" answer is
    # covered by tests/service/chat).
    model_server = openai_double(KeywordModel(), model_name="fuzz")
    model_server.start()
    settings_ = Settings(runtime="local", database_url=fuzz_database_url, local_dir=local_dir,
                         dev_issuer=True, log_level="CRITICAL", chat_provider="openai",
                         chat_model="fuzz", chat_base_url=model_server.url + "/v1")
    app = create_app(services=Services(settings_, bank_providers=sandbox_providers(sandbox_bank),
                                       workflow_sleep=lambda _: None))
    services: Services = app.extensions[SERVICES_KEY]
    documented_by = APP_UNDER_TEST.app
    try:
        real = _seed(services.database, services)
        issuer = services.dev_issuer
        assert issuer is not None
        _Targets.by_operation = real
        _Targets.owner_token = issuer.issue(OWNER)
        APP_UNDER_TEST.app = app  # generated requests and schemathesis's probes go here
        yield Seeded(app=app, db=services.database)
    finally:
        APP_UNDER_TEST.app = documented_by
        _Targets.by_operation = {}
        _Targets.owner_token = None
        services.close()
        model_server.stop()


# Not ``positive_data_acceptance``: schema-valid is not always acceptable (a cursor the
# server never issued is rightly a 422). Not ``max_response_time``: no wall-clock checks.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          ignored_auth, unsupported_method, problem_details]


def _exercise(case: Case, seeded: Seeded) -> None:
    before = fingerprint(seeded.db) if case.method.upper() in WRITE_METHODS else None
    auth = {"Authorization": f"Bearer {_Targets.owner_token}"}
    response = case.call(headers=auth)
    # A started sync runs in the background: let it finish, so no case sees another's writes.
    settle_syncs(seeded.app)
    case.validate_response(response, headers=auth, checks=CHECKS)
    if before is not None and 400 <= response.status_code < 500:
        assert fingerprint(seeded.db) == before, (
            f"rejected {case.method} {case.formatted_path} ({response.status_code}) wrote rows")


# Parametrised here rather than with ``schema.parametrize()``: under pytest 9 its items
# share one node id, so pytest-xdist would run a single operation.
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_answers_documented_responses_and_problems(label: str, seeded: Seeded) -> None:
    operation = OPERATIONS[label]
    for case in _coverage_cases(operation):
        _exercise(case, seeded)

    @FUZZ_SETTINGS
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    def fuzz(case: Case) -> None:
        _exercise(case, seeded)

    fuzz()


@FUZZ_SETTINGS
@given(cursor=CURSORS, listing=st.sampled_from(["audit", "transactions"]))
def test_decodable_but_forged_cursors_are_422_problems(
    seeded: Seeded, cursor: str, listing: str
) -> None:
    family = _Targets.by_operation[("*", "fid")][0]["fid"]
    response = seeded.app.test_client().get(
        f"/v1/families/{family}/{listing}", query_string={"cursor": cursor},
        headers={"Authorization": f"Bearer {_Targets.owner_token}"})
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        assert response.mimetype == PROBLEM_JSON
        assert response.get_json()["detail"] == "The cursor is not valid."


_OFFSETS = st.timedeltas(min_value=-timedelta(hours=23, minutes=59),
                         max_value=timedelta(hours=23, minutes=59)).map(
    lambda delta: timezone(timedelta(minutes=delta // timedelta(minutes=1))))


@FUZZ_SETTINGS
@given(expires=st.one_of(st.datetimes(timezones=_OFFSETS),
                         st.sampled_from([datetime.min, datetime.max]).flatmap(
                             lambda edge: _OFFSETS.map(lambda tz: edge.replace(tzinfo=tz)))))
def test_any_aware_consent_expiry_is_stored_or_a_422_problem(
    seeded: Seeded, expires: datetime
) -> None:
    family = _Targets.by_operation[("*", "fid")][0]["fid"]
    before = fingerprint(seeded.db)
    response = seeded.app.test_client().post(
        f"/v1/families/{family}/connections",
        json={"provider": "fuzz-bank", "access_token": "t",
              "consent_expires_at": expires.isoformat()},
        headers={"Authorization": f"Bearer {_Targets.owner_token}"})
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        assert response.mimetype == PROBLEM_JSON
        assert fingerprint(seeded.db) == before
