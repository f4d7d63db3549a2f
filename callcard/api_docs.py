"""The API pages (``/docs``: Swagger UI, ``/redoc``: ReDoc) with no file from outside the server:
Callcard runs on LANs without internet. The assets ship with the ``fastapi-offline`` package;
the pages' Content-Security-Policy keeps the browser from fetching anything else (ReDoc's
footer links an image on a CDN)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/static-docs"
#: scripts as the pages ship them (Swagger UI starts with an inline script); everything they
#: fetch, show or run in a worker comes from the server itself
PAGE_POLICY = (
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "worker-src 'self' blob:; frame-src 'none'; object-src 'none'; base-uri 'self'"
)


def _page(html: HTMLResponse) -> HTMLResponse:
    html.headers["Content-Security-Policy"] = PAGE_POLICY
    return html


def mount_api_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` (create the app with ``docs_url=None, redoc_url=None``)."""
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_URL, StaticFiles(directory=str(assets)), name="api-docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _page(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - API",
                swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _page(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} - API",
                redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
                with_google_fonts=False,
            )
        )
