"""The API pages (/docs, /redoc) work on a LAN without internet: every file they load comes from
the Callcard server itself, and they show the API in a real browser."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _requests_of(browser, url: str, ready: str) -> list[str]:
    context = browser.new_context()
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(url)
    page.wait_for_selector(ready, timeout=20_000)
    context.close()
    return seen


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        (
            "/docs",
            'css=.opblock-summary-path >> text="/api/clients"',
        ),  # Swagger UI lists operations
        ("/redoc", "h1 >> text=Callcard"),  # ReDoc shows the API's title
    ],
)
def test_api_pages_load_only_from_the_server(browser, site, path, ready):
    seen = _requests_of(browser, site.url + path, ready)
    outside = [u for u in seen if not u.startswith((site.url, "data:", "blob:"))]
    assert outside == [], outside
    assert any(u.endswith(".js") for u in seen)  # the bundled assets were really used
