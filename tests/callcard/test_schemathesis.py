"""Property-based API testing: schemathesis drives every operation of the OpenAPI schema.

Signed in as an admin (bearer token) and as an operator, no generated request may produce a
server error. The fuzzing admin cannot lock itself out: requests that would change its own
account (password, role, deactivation) or end its own sign-in are not sent, so every route is
still exercised as an admin to the end. Every operation documents the errors any route may give
(:data:`crm_core.apitypes.ERROR_RESPONSES`, set on the app) plus its own; every answer must
have a documented status code and match the documented schema, except from the operations that
answer outside parties in their own formats (:data:`OWN_FORMAT_TAGS`). Examples per operation are bounded so that the run stays
well under two minutes; SQLite only (the subject is input handling, not the backend).
"""

from __future__ import annotations

import os
import traceback
import warnings

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = {"admin": int(os.environ.get("CALLCARD_FUZZ_EXAMPLES", "8")), "operator": 3}
#: operations whose side effects would end the run's own sign-in
SKIP = {
    ("POST", "/api/auth/logout"),
}
#: operations that start work in the background (a backup): a sequence holding one answers
#: differently when hypothesis replays it (202, then 409 while the first still runs), so it
#: cannot be replayed or shrunk; the per-operation test and their own tests still send them
NOT_IN_SEQUENCES = {
    ("POST", "/api/backups/runs"),
}
#: operations with a known server error whose fix is outside this test's change; their failures
#: are shown as warnings. Pinned by tests/crm_core/test_input_errors.py (strict xfail): when that
#: test passes, remove the entry here.
AWAITING_FIX: dict[str, str] = {}
#: routers (by OpenAPI tag) that answer outside parties in their own formats (Twilio's TwiML,
#: provider webhooks): only "no server error" is asked of them; every other operation's status
#: codes and bodies must be the documented ones
OWN_FORMAT_TAGS = {"voice", "webhooks"}


@pytest.fixture
def fuzz_app(sqlite_database, monkeypatch, tmp_path):
    from fastapi.testclient import TestClient

    from callcard.app import create_app

    app = create_app()
    with TestClient(app):  # runs the lifespan (migration check, bus, embedded services)
        yield app


def _sent(operation) -> bool:
    """Writes under /api/auth/ other than signing in (logout, token revocation, password
    changes) would act on the fuzzing user's own sign-in: not sent."""
    method, path = operation.method.upper(), operation.path
    if (method, path) in SKIP:
        return False
    signing_in = path in ("/api/auth/login", "/api/auth/token")
    return not (path.startswith("/api/auth/") and method != "GET" and not signing_in)


def _spares(fuzzer_id: int):
    """A case that does not touch the fuzzing user's own account."""

    def spares(case) -> bool:
        return not (
            case.operation.path.startswith("/api/users/{user_id}")
            and case.operation.method.upper() != "GET"
            and (case.path_parameters or {}).get("user_id") == fuzzer_id
        )

    return spares


def _checks_for(operation) -> list:
    if OWN_FORMAT_TAGS.intersection(operation.definition.raw.get("tags", ())):
        return [not_a_server_error]
    return [not_a_server_error, status_code_conformance, response_schema_conformance]


def _check_operation(operation, fuzzer, examples: int, failures: list[str]):
    """Run ``examples`` generated requests against one operation; record what failed."""
    name = f"{operation.method.upper()} {operation.path}"
    headers, fuzzer_id = fuzzer
    checks = _checks_for(operation)

    @given(case=operation.as_strategy().filter(_spares(fuzzer_id)))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        request = f"  request: path={case.path_parameters} query={case.query} body={case.body!r}"
        try:
            response = case.call(headers=headers)
        except Exception:
            failures.append(f"{name}: exception {traceback.format_exc(limit=-3)}\n{request}"[:1500])
            return
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:  # schemathesis groups the failed checks in one exception
            failures.append(
                f"{name}: {response.status_code} {exc}\n{response.text[:200]}\n{request}"[:1500]
            )

    run()


def _failures_for(app, fuzzer, examples: int) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if _sent(operation):
            _check_operation(operation, fuzzer, examples, failures)
    return failures


@pytest.mark.parametrize("role", ["admin", "operator"])
def test_no_input_produces_a_server_error(fuzz_app, role):
    from tests.conftest import Users

    users = Users()  # not the ``users`` fixture: that one runs on both backends
    user = users.add(f"fuzz-{role}", role=role, team="Sales")
    headers = {"Authorization": f"Bearer {users.token(f'fuzz-{role}')}"}
    failures = _failures_for(fuzz_app, (headers, user.id), EXAMPLES[role])
    # the fuzzing user is still signed in, with its role: the whole run was made as that user
    from fastapi.testclient import TestClient

    me = TestClient(fuzz_app).get("/api/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["role"] == role, me.text
    # one line per distinct operation keeps the report readable
    seen: dict[str, str] = {}
    for failure in failures:
        seen.setdefault(failure.split(":", 1)[0], failure)
    for name, why in AWAITING_FIX.items():
        if seen.pop(name, None):
            warnings.warn(f"{name}: known server error, awaiting its fix: {why}", stacklevel=1)
    assert not seen, f"{len(failures)} failures:\n" + "\n".join(seen.values())


def test_call_sequences_produce_no_server_error(fuzz_app):
    """Stateful: schemathesis links the operations (a created client's id fed to reading,
    changing and deleting it, and so on) and runs sequences of them as an admin; no sequence
    may produce a server error or an undocumented answer."""
    from hypothesis import settings as hsettings

    from tests.conftest import Users

    users = Users()
    user = users.add("fuzz-sequences", role="admin", team="Sales")
    headers = {"Authorization": f"Bearer {users.token('fuzz-sequences')}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    base = schema.as_state_machine()
    spares = _spares(user.id)

    class Sequences(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def before_call(self, case):
            background = (case.operation.method.upper(), case.operation.path) in NOT_IN_SEQUENCES
            if not _sent(case.operation) or not spares(case) or background:
                reject()

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=_checks_for(case.operation))

    Sequences.run(
        settings=hsettings(
            max_examples=int(os.environ.get("CALLCARD_FUZZ_SEQUENCES", "25")),
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
