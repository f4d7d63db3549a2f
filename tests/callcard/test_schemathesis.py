"""Property-based API testing: schemathesis drives every operation of the OpenAPI schema.

Signed in as an admin (bearer token) and as an operator, no generated request may produce a
server error. Examples per operation are bounded so that the run stays well under two minutes;
SQLite only (the subject is input handling, not the backend).
"""

from __future__ import annotations

import os
import traceback

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

EXAMPLES = {"admin": int(os.environ.get("CALLCARD_FUZZ_EXAMPLES", "8")), "operator": 3}
#: operations whose side effects leave the process (none may run against real providers here)
SKIP = {
    ("POST", "/api/auth/logout"),  # would end the session the run is using
}


@pytest.fixture
def fuzz_app(sqlite_database, monkeypatch, tmp_path):
    from fastapi.testclient import TestClient

    from callcard.app import create_app

    app = create_app()
    with TestClient(app):  # runs the lifespan (migration check, bus, embedded services)
        yield app


def _check_operation(operation, headers: dict[str, str], examples: int, failures: list[str]):
    """Run ``examples`` generated requests against one operation; record server errors."""
    name = f"{operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy())
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
        if response.status_code >= 500:
            failures.append(
                f"{name}: {response.status_code} {response.text[:200]}\n{request}"[:1500]
            )

    run()


def _failures_for(app, headers: dict[str, str], examples: int) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in SKIP:
            _check_operation(operation, headers, examples, failures)
    return failures


@pytest.mark.parametrize("role", ["admin", "operator"])
def test_no_input_produces_a_server_error(fuzz_app, role):
    from tests.conftest import Users

    users = Users()  # not the ``users`` fixture: that one runs on both backends
    users.add(f"fuzz-{role}", role=role, team="Sales")
    headers = {"Authorization": f"Bearer {users.token(f'fuzz-{role}')}"}
    failures = _failures_for(fuzz_app, headers, EXAMPLES[role])
    # one line per distinct operation keeps the report readable
    seen: dict[str, str] = {}
    for failure in failures:
        seen.setdefault(failure.split(":", 1)[0], failure)
    assert not seen, f"{len(failures)} server errors:\n" + "\n".join(seen.values())
