"""The authorization matrix: every route of the app, for every role.

Routes are read from ``create_app()`` itself, so a route added later is covered automatically:
it must match a row of ``RULES`` (the first matching row wins) or the test fails and names it.

Each role calls each route with a bearer token, a fresh session cookie and its CSRF token
(pages use the cookie, the API the bearer token); the wall screen sends its wall token as
bearer and as ``?token=``. Outcome classes:

- ``ok``: the role gets through (any status but 401/403, a redirect to the login page, or 5xx);
- ``denied``: 401, 403, or a 303 redirect to the login page;
- ``any``: only "no server error" (public webhooks that check a signature).

Then, for every route whose path holds a client-scoped id (client, history entry, task,
file, page of a client), an operator of the Sales team asks for the Support team's record and
must get 404, not 403, so that ids do not leak.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest

ROLES = ("anonymous", "wall", "operator", "manager", "admin")
OK, DENIED, ANY = "ok", "denied", "any"


def rule(anonymous=DENIED, wall=DENIED, operator=OK, manager=OK, admin=OK) -> dict[str, str]:
    return {
        "anonymous": anonymous,
        "wall": wall,
        "operator": operator,
        "manager": manager,
        "admin": admin,
    }


PUBLIC = rule(OK, OK, OK, OK, OK)
SIGNED_WEBHOOK = rule(ANY, ANY, ANY, ANY, ANY)
STAFF = rule()
MANAGERS = rule(operator=DENIED)
ADMINS = rule(operator=DENIED, manager=DENIED)
WALL_OR_MANAGERS = rule(wall=OK, operator=DENIED)
WEBSOCKET = None  # covered by dashboard's websocket tests; listed so that it is classified
#: a mount of static files (listed with no method): the API pages' assets, public like the pages;
#: tests/e2e/test_api_docs.py loads them
STATIC_MOUNT = None

#: (methods, route path pattern as a regex) -> expectation; the first match wins
RULES: list[tuple[str, str, dict[str, str] | None]] = [
    # framework and system
    ("GET", r"/openapi\.json|/docs|/docs/oauth2-redirect|/redoc|/healthz", PUBLIC),
    ("GET", r"/static/\{name\}", PUBLIC),
    ("WS", r"/ws", WEBSOCKET),
    ("WS", r"/static-docs", STATIC_MOUNT),
    # sign-in
    ("POST", r"/api/auth/(token|login)", PUBLIC),
    ("GET|POST", r"/login", PUBLIC),
    ("POST", r"/logout", rule(ANY, ANY, ANY, ANY, ANY)),  # always ends at the login page
    ("POST", r"/api/auth/logout|/settings/language", STAFF),
    ("GET", r"/api/auth/me", STAFF),
    ("GET|DELETE", r"/api/auth/tokens(/\{token_id\})?", STAFF),
    ("GET", r"/settings", STAFF),
    ("POST", r"/settings/sessions/\{session_id\}/revoke", STAFF),
    # users and teams: everyone lists colleagues, admins manage
    ("GET", r"/api/(users|teams)", STAFF),
    ("POST|GET|PATCH|DELETE", r"/api/users.*|/api/teams.*", ADMINS),
    # configuration: everyone reads, admins change
    ("GET", r"/api/(custom-fields|labels|choices/\{list_name\})", STAFF),
    ("POST|PUT|PATCH|DELETE", r"/api/(custom-fields|labels|choices).*", ADMINS),
    # the client base and its records (row rights checked in the services)
    ("DELETE", r"/api/clients/\{client_id\}", MANAGERS),
    ("POST", r"/api/clients/\{client_id\}/restore", ADMINS),
    ("POST", r"/api/clients/\{client_id\}/merge", MANAGERS),
    ("DELETE", r"/api/tasks/\{task_id\}", MANAGERS),
    (
        "GET|POST|PATCH|PUT|DELETE",
        r"/api/(clients|lookup|search|interactions|tasks|attachments)(/.*)?",
        STAFF,
    ),
    ("GET", r"/api/audit", MANAGERS),
    ("GET", r"/api/export/.*", MANAGERS),
    ("POST", r"/api/import/.*", MANAGERS),
    # calls (cti)
    ("GET|POST|PUT", r"/api/calls(/.*)?|/api/presence", STAFF),
    # notifier: provider webhooks are public but signature-checked; the rest for staff/managers
    ("POST", r"/api/notifier/twilio/.*", SIGNED_WEBHOOK),
    ("GET|POST", r"/api/notifier/unsubscribe/\{token\}", PUBLIC),
    ("GET|POST", r"/api/notifier/outbox.*", ADMINS),
    ("GET", r"/api/notifier/(reminder-rules|templates)", MANAGERS),
    ("POST|PATCH|PUT|DELETE", r"/api/notifier/(reminder-rules|templates)(/.*)?", ADMINS),
    ("GET|POST", r"/api/notifier/(csat|segments|handset(/.*)?)", STAFF),
    (
        "GET|POST|PATCH",
        r"/api/notifier/(inbox/unknown|newsletters|saved-segments|surveys)(/.*)?",
        MANAGERS,
    ),
    # voice bots: Twilio webhooks, signature-checked
    ("GET|POST", r"/api/voice/.*", SIGNED_WEBHOOK),
    # dashboard
    ("GET", r"/wall", WALL_OR_MANAGERS),
    ("GET", r"/api/wall/snapshot", MANAGERS),
    ("GET|POST|DELETE", r"/api/wall/tokens.*", ADMINS),
    ("GET|POST|DELETE", r"/api/saved-filters.*", STAFF),
    ("GET", r"/outbox", ADMINS),
    ("GET", r"/|/clients.*|/tasks|/handset", STAFF),
    ("GET", r"/admin", MANAGERS),
    # --- round three: each area keeps its rows inside its own block ---
    # [sales: catalog, price lists, orders]
    (
        "GET",
        r"/api/(vat-rates|product-categories|products|price-lists|client-category-discounts"
        r"|order-statuses)|/api/products/\{product_id\}(/quote)?|/api/price-lists/\{list_id\}",
        STAFF,
    ),
    ("POST|PATCH", r"/api/vat-rates(/\{rate_id\})?|/api/order-statuses(/\{status_id\})?", ADMINS),
    (
        "POST|PATCH|PUT",
        r"/api/(product-categories|products|price-lists|client-category-discounts)(/.*)?",
        MANAGERS,
    ),
    ("GET|POST|PATCH", r"/api/orders(/\{order_id\}(/status)?)?", STAFF),
    ("GET", r"/api/public/orders/\{token\}|/o/\{token\}", PUBLIC),
    ("GET", r"/catalog|/price-lists|/orders|/orders/new|/orders/\{order_id\}", STAFF),
    ("GET", r"/admin/order-statuses", ADMINS),
    # [/sales: catalog, price lists, orders]
    # [sales: contracts, invoices, payments]
    (
        "GET|POST|PATCH|DELETE",
        r"/api/invoices(/\{invoice_id\}(/(issue|credit-note|payments|refunds))?)?",
        STAFF,
    ),
    ("GET|POST|PATCH", r"/api/contracts(/\{contract_id\}(/scan)?)?", STAFF),
    ("POST", r"/api/sales/payments/webhook", SIGNED_WEBHOOK),
    ("GET", r"/invoices(/new|/\{invoice_id\})?|/contracts(/new|/\{contract_id\})?", STAFF),
    # [/sales: contracts, invoices, payments]
    # [sales: print forms, company, sales reports]
    ("GET", r"/api/company(/logo)?", STAFF),
    ("PUT|DELETE", r"/api/company(/logo)?", ADMINS),
    ("GET|PUT|POST|DELETE", r"/api/document-templates(/.*)?", ADMINS),
    ("GET", r"/api/(invoices|orders|contracts)/\{\w+_id\}/(pdf|docx)", STAFF),
    ("GET", r"/admin/(company|document-templates)", ADMINS),
    ("GET", r"/reports/sales(/.*)?", MANAGERS),
    # [/sales: print forms, company, sales reports]
    # [admin: users, teams, wall tokens, audit, call log]
    ("GET", r"/admin/users|/admin/wall-tokens|/admin/audit", MANAGERS),
    ("GET", r"/admin/users/new|/admin/users/\{user_id\}|/admin/teams", ADMINS),
    (
        "POST",
        r"/admin/users(/\{user_id\}(/password)?)?|/admin/teams(/\{team_id\})?"
        r"|/admin/wall-tokens(/\{token_id\}/revoke)?",
        ADMINS,
    ),
    ("POST", r"/settings/timezone", STAFF),
    ("GET", r"/calls|/calls/export\.\{fmt\}|/calls/\{call_id\}/recording", STAFF),
    # [/admin: users, teams, wall tokens, audit, call log]
    # [admin: fields, choices, labels, templates, reminder rules, quiet hours]
    ("GET", r"/api/notifier/quiet-hours", MANAGERS),
    ("PUT|DELETE", r"/api/notifier/quiet-hours", ADMINS),
    (
        "GET",
        r"/admin/(fields|choices|labels|templates(/\{key\}/\{language\})?|reminder-rules"
        r"|quiet-hours)",
        ADMINS,
    ),
    # [/admin: fields, choices, labels, templates, reminder rules, quiet hours]
    # [reports and newsletters]
    ("GET", r"/reports|/reports/export\.xlsx", MANAGERS),
    ("GET", r"/api/reports/(calls|csat|tasks)", MANAGERS),
    ("PUT", r"/api/reports/subscription", MANAGERS),
    ("GET", r"/newsletters|/newsletters/\{newsletter_id\}", MANAGERS),
    ("GET", r"/api/notifier/newsletter-unsubscribes", MANAGERS),
    # [/reports and newsletters]
    # [data in and out: import, export, vCard, iCalendar]
    ("GET|POST|DELETE", r"/api/calendar-feed", STAFF),
    ("GET", r"/ical/\{secret\}\.ics", PUBLIC),  # the secret is the credential; unknown: 404
    ("GET|PUT", r"/api/import/jobs(/.*)?", MANAGERS),  # POST: the /api/import/.* row above
    ("GET", r"/import", MANAGERS),  # operators: the 403 page
    # [/data in and out: import, export, vCard, iCalendar]
    # [backups]
    ("GET|POST", r"/api/backups.*", ADMINS),
    ("GET", r"/admin/backups", ADMINS),
    # [/backups]
]

#: path parameter values for the "own team" pass; names not listed get 999999
OWN_IDS_KEYS = ("client_id", "interaction_id", "task_id", "attachment_id")
OTHER_VALUES = {
    "list_name": "interaction_result",
    "number": "+40721234567",
    "token": "not-a-real-token",
    "key": "reminder",
    "language": "en",
    "script": "reminder",
    "call_id": "1700000000.1",
    "name": "app.js",
}

#: bodies for client-scoped writes, so that the 404 comes from the row check, not a 422
BODIES: dict[tuple[str, str], dict] = {
    ("PATCH", "/api/clients/{client_id}"): {"comment": "x"},
    ("POST", "/api/clients/{client_id}/merge"): {"source_id": 1},
    ("POST", "/api/clients/{client_id}/interactions"): {"kind": "note", "body": "x"},
    ("PATCH", "/api/interactions/{interaction_id}"): {"body": "x"},
    ("PATCH", "/api/tasks/{task_id}"): {"title": "x"},
    ("POST", "/api/tasks/{task_id}/assign"): {"assignee_id": None},
}
UPLOAD = {"file": ("x.txt", b"hello", "text/plain")}


@dataclass
class Route:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def app_routes(app) -> list[Route]:
    """Every (method, path) the app serves, including routes of included routers."""
    try:
        from fastapi.routing import iter_route_contexts

        contexts = list(iter_route_contexts(app.routes))
    except ImportError:  # older FastAPI: routes are flat
        contexts = list(app.routes)
    out = []
    for rc in contexts:
        methods = getattr(rc, "methods", None) or {"WS"}
        for method in sorted(methods - {"HEAD"}):
            out.append(Route(method, rc.path))
    return out


def expectation(route: Route) -> tuple[bool, dict[str, str] | None]:
    for methods, pattern, expected in RULES:
        if route.method in methods.split("|") and re.fullmatch(pattern, route.path):
            return True, expected
    return False, None


def classify(status: int, headers) -> str:
    if status >= 500:
        return "error"
    if status in (401, 403):
        return DENIED
    if status in (302, 303, 307) and "/login" in headers.get("location", ""):
        return DENIED
    return OK


@pytest.fixture
def world(client):
    """Two teams' clients with history, tasks and files; one credential per role."""
    from crm_core.attachments import service as files
    from crm_core.auth.models import User
    from crm_core.auth.service import get_or_create_team, open_session, principal_of
    from crm_core.clients.models import Client
    from crm_core.customfields import service as customfields
    from crm_core.customfields.labels import set_label
    from crm_core.database import session_scope
    from crm_core.history import choices
    from crm_core.history.service import add_interaction
    from crm_core.tasks.service import create_task
    from tests.factories import colleagues

    colleagues(
        root=("admin", None),
        boss=("manager", "Sales"),
        ana=("operator", "Sales"),
        vlad=("operator", "Support"),
        spare=("operator", None),
    )
    ids: dict[str, dict] = {"own": {}, "other": {}}
    with session_scope() as db:
        by_name = {u.username: u for u in db.query(User)}
        for side, team_name, author in (("own", "Sales", "ana"), ("other", "Support", "vlad")):
            actor = principal_of(by_name[author])
            team = get_or_create_team(db, team_name)
            c = Client(display_name=f"{side} client", first_name=side, team_id=team.id)
            db.add(c)
            db.flush()
            note = add_interaction(db, actor, client_id=c.id, kind="note", body="n")
            task = create_task(db, actor, title=f"{side} task", client_id=c.id)
            sink = files.UploadSink()
            sink.write(b"hello")
            att = files.attach(
                db,
                actor,
                owner_type="client",
                owner_id=c.id,
                filename="a.txt",
                content_type="text/plain",
                sink=sink,
            )
            ids[side] = {
                "client_id": c.id,
                "interaction_id": note.id,
                "task_id": task.id,
                "attachment_id": att.id,
            }
        admin = principal_of(by_name["root"])
        spare_team = get_or_create_team(db, "Spare")
        field = customfields.create_field(
            db, admin, entity="task", key="budget", label="Budget", kind="number"
        )
        label = set_label(
            db, admin, entity="client", field="org_name", language="ro", label="Firmă"
        )
        item = choices.items(db, "interaction_result")[-1]
        ids["own"].update(
            user_id=by_name["spare"].id,
            team_id=spare_team.id,
            field_id=field.id,
            label_id=label.id,
            item_id=item.id,
        )
        wall = open_session(db, None, "wall", label="lobby")
    return ids, wall


def credentials(role: str, wall_token: str) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query params) for one request of ``role``."""
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.auth.security import csrf_token_for
    from crm_core.auth.service import open_session
    from crm_core.config import secret_key
    from crm_core.database import session_scope

    if role == "anonymous":
        return {}, {}
    if role == "wall":
        return {"Authorization": f"Bearer {wall_token}"}, {"token": wall_token}
    name = {"operator": "ana", "support_operator": "vlad", "manager": "boss", "admin": "root"}[role]
    with session_scope() as db:
        user = db.scalar(select(User).where(User.username == name))
        bearer = open_session(db, user, "bearer")
        cookie = open_session(db, user, "cookie")
    return {
        "Authorization": f"Bearer {bearer}",
        "Cookie": f"callcard_session={cookie}",
        "X-CSRF-Token": csrf_token_for(cookie, secret_key()),
    }, {}


def fill(path: str, values: dict) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1)
        return str(values.get(name, OTHER_VALUES.get(name, 999999)))

    return re.sub(r"\{(\w+)(?::\w+)?\}", one, path)


def call(client, route: Route, url: str, headers: dict, params: dict):
    client.cookies.clear()
    kwargs: dict = {"headers": headers, "params": params, "follow_redirects": False}
    if route.method in ("POST", "PUT", "PATCH"):
        if route.path.endswith("/attachments"):
            kwargs["files"] = UPLOAD
        else:
            kwargs["json"] = BODIES.get((route.method, route.path), {})
    return client.request(route.method, url, **kwargs)


def test_every_route_is_classified(app):
    missing = [str(r) for r in app_routes(app) if not expectation(r)[0]]
    assert not missing, "routes with no rule in tests/test_rights_matrix.py RULES: " + ", ".join(
        missing
    )


def test_other_teams_records_are_404_for_operators(client, app, world):
    ids, wall_token = world
    # routes the operator's role may use at all (elsewhere the role alone gives 403 for any id)
    scoped = [
        r
        for r in app_routes(app)
        if r.method != "WS"
        and any(f"{{{k}}}" in r.path for k in OWN_IDS_KEYS)
        and (expectation(r)[1] or {}).get("operator") == OK
    ]
    assert len(scoped) >= 20
    wrong = []
    for route in scoped:
        headers, params = credentials("operator", wall_token)
        values = {**ids["own"], **ids["other"]}
        r = call(client, route, fill(route.path, values), headers, params)
        if r.status_code != 404:
            wrong.append(f"{route}: {r.status_code} {r.text[:120]}")
    assert not wrong, "operator reached another team's record:\n" + "\n".join(wrong)
    # the records exist: the Support team's own operator reaches them
    headers, params = credentials("support_operator", wall_token)
    other = ids["other"]
    for path in (
        f"/api/clients/{other['client_id']}/interactions",
        f"/api/tasks/{other['task_id']}",
        f"/api/interactions/{other['interaction_id']}",
        f"/api/attachments/{other['attachment_id']}",
    ):
        assert client.get(path, headers=headers).status_code == 200, path


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_answer_on_every_route(client, app, world, role):
    ids, wall_token = world
    probe = os.environ.get("CALLCARD_MATRIX_PROBE") == "1"
    wrong = []
    for route in app_routes(app):
        known, expected = expectation(route)
        if route.method == "WS" or expected is None and not probe:
            continue
        headers, params = credentials(role, wall_token)
        r = call(client, route, fill(route.path, ids["own"]), headers, params)
        got = classify(r.status_code, r.headers)
        if probe:
            print(f"PROBE {role:9} {route} -> {r.status_code}")
        if got == "error":
            wrong.append(f"{route}: server error {r.status_code} {r.text[:200]}")
        elif expected and expected[role] != ANY and got != expected[role]:
            wrong.append(f"{route}: expected {expected[role]}, got {r.status_code} {r.text[:120]}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
