"""The dashboard's routes: browser pages, the wall, saved filters and self-hosted static files."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from dashboard.views import (
    admin_backups,
    admin_fields,
    admin_hub,
    admin_logs,
    admin_messages,
    admin_people,
    auth,
    clients,
    data_pages,
    newsletters,
    notifier_pages,
    reports,
    sales_documents,
    sales_invoices,
    sales_orders,
    tasks,
    wall,
    workspace,
)
from dashboard.views.common import STATIC_DIR

router = APIRouter()
for _module in (
    auth,
    workspace,
    clients,
    tasks,
    wall,
    notifier_pages,
    admin_hub,
    admin_backups,
    admin_people,
    admin_logs,
    admin_fields,
    admin_messages,
    reports,
    newsletters,
    sales_orders,
    sales_invoices,
    sales_documents,
    data_pages,
):
    router.include_router(_module.router)

_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    """Self-hosted assets (no CDN: Callcard runs on LANs without internet)."""
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR or not path.is_file() or path.suffix not in _STATIC_TYPES:
        raise HTTPException(404, "no such file")
    return FileResponse(
        path,
        media_type=_STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=86400"},
    )
