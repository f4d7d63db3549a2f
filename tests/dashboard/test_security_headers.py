"""Browser hardening headers (issue 13, item 13): a Content-Security-Policy with no inline script
and no outside origin, no framing, no MIME sniffing, a same-origin referrer, HSTS behind HTTPS;
and no page that needs an inline script or a style attribute to work."""

from __future__ import annotations

import re

import pytest

from dashboard.views.common import TEMPLATES_DIR


@pytest.fixture
def database(sqlite_database):
    return sqlite_database


def policy(header: str) -> dict[str, list[str]]:
    directives = (d.split() for d in header.split(";") if d.strip())
    return {name: sources for name, *sources in directives}


def test_pages_and_api_answers_carry_the_hardening_headers(client, users):
    from tests.dashboard.test_dashboard_pages import sign_in

    users.add("ana", extension="101")
    sign_in(client, "ana")
    for path in ("/login", "/", "/clients", "/static/app.js", "/healthz", "/api/clients"):
        r = client.get(path)
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin", path
        assert "strict-transport-security" not in r.headers, path  # plain HTTP by default
        csp = policy(r.headers["content-security-policy"])
        assert csp["script-src"] == ["'self'"], path  # no inline script, no other origin
        assert csp["style-src"] == ["'self'"], path
        assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"], path
        assert csp["frame-ancestors"] == ["'none'"], path
        every_source = {s for sources in csp.values() for s in sources}
        assert every_source <= {"'self'", "'none'", "data:"}, path


def test_hsts_only_when_cookies_are_secure(client, monkeypatch):
    from crm_core import config

    monkeypatch.setenv("CALLCARD_SECURE_COOKIES", "true")
    config.get_settings.cache_clear()
    try:
        hsts = client.get("/login").headers["strict-transport-security"]
    finally:
        monkeypatch.delenv("CALLCARD_SECURE_COOKIES")
        config.get_settings.cache_clear()
    assert re.fullmatch(r"max-age=\d{7,}; includeSubDomains", hsts)


def test_api_pages_keep_their_own_policy(client):
    """Swagger UI starts with an inline script: /docs and /redoc keep the policy they set."""
    from callcard.api_docs import PAGE_POLICY

    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == PAGE_POLICY, path
        assert r.headers["x-content-type-options"] == "nosniff", path


def test_templates_have_no_inline_script_or_style_attribute():
    """What the policy would block: inline <script> code, on* handlers, style attributes, in
    every page template. E-mail bodies (``email/``) are exempt: they never reach a browser under
    the policy, and mail clients read only inline styles."""
    pages = [t for t in TEMPLATES_DIR.rglob("*.html") if t.parent.name != "email"]
    assert len(pages) > 40  # the sub-folders (admin/, sales/) are checked too
    for template in sorted(pages):
        html = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+=", html), template.name
        assert not re.search(r"\sstyle=", html), template.name
