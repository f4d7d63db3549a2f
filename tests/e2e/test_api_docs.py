"""The API pages (/docs, /redoc) work on a LAN without internet: every file they load comes from
the Callcard server itself, nothing is even tried elsewhere (ReDoc's footer links a logo on a
CDN: the page's Content-Security-Policy stops it in the browser), and they show the API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/docs", ".opblock-summary-path[data-path='/api/clients']"),  # Swagger UI's operations
        ("/redoc", "h1:has-text('Callcard')"),  # ReDoc shows the API's title
    ],
)
def test_api_pages_load_only_from_the_server(browser, site, path, ready):
    context = browser.new_context()
    page = context.new_page()
    loaded: list[str] = []
    stopped: list[tuple[str, str | None]] = []
    page.on("response", lambda response: loaded.append(response.url))
    page.on("requestfailed", lambda request: stopped.append((request.url, request.failure)))
    page.goto(site.url + path)
    page.wait_for_selector(ready, timeout=20_000)
    context.close()
    assert [u for u in loaded if not u.startswith((site.url, "data:", "blob:"))] == []
    assert all(why == "csp" for _, why in stopped), stopped  # stopped by the policy, not tried
    assert any(u.endswith(".js") for u in loaded)  # the bundled assets were really used
