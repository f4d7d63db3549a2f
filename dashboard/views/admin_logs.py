"""``/admin/audit`` (who changed what) and ``/calls`` (the call log, its export and recordings).

Dates in the filters are days in the user's time zone; pages go newest first by a cursor
(``?before=<time>~<id>``), never by offset, so that they stay fast in millions of rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from crm_core.apitypes import RowId
from crm_core.audit import service as audit
from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.config import get_settings
from crm_core.database import request_session, utcnow
from crm_core.errors import Invalid, NotFound
from cti.calllog import browse
from cti.calllog.models import DIRECTIONS, DISPOSITIONS, Call
from cti.calllog.service import get_call
from dashboard import i18n
from dashboard.i18n import _, lazy
from dashboard.views.common import forbidden_page, message_page, page_user, render

router = APIRouter(include_in_schema=False)

PAGE = 50
DISPOSITION_LABELS = {
    "answered": lazy("Answered"),
    "missed": lazy("Missed"),
    "abandoned": lazy("Abandoned"),
    "busy": lazy("Busy"),
    "failed": lazy("Failed"),
}
DIRECTION_LABELS = {
    "inbound": lazy("inbound"),
    "outbound": lazy("outbound"),
    "internal": lazy("internal"),
}
ACTION_LABELS = {
    "create": lazy("created"),
    "update": lazy("changed"),
    "delete": lazy("deleted"),
    "restore": lazy("restored"),
    "merge": lazy("merged"),
    "reset_password": lazy("password reset"),
}


# --- shared helpers --------------------------------------------------------------------


def day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def day_start(value: date) -> datetime:
    """Midnight of ``value`` in the user's zone (set by :func:`i18n.set_timezone`)."""
    return datetime.combine(value, time(0), tzinfo=i18n.local_zone())


def cursor(value: str | None) -> tuple[datetime, int] | None:
    """``2026-11-26T09:00:00+00:00~42`` -> (moment, id); anything else: the first page."""
    if not value or "~" not in value:
        return None
    moment, _sep, row_id = value.rpartition("~")
    try:
        parsed = datetime.fromisoformat(moment)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=i18n.local_zone()), int(row_id))
    except ValueError:
        return None


def cursor_text(value: tuple[datetime, int] | None) -> str:
    return f"{value[0].isoformat()}~{value[1]}" if value else ""


def query_without(request: Request, *names: str) -> str:
    """The page's query string less ``names`` (for "next page" and export links)."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in names and v]
    from urllib.parse import urlencode

    return urlencode(pairs)


# --- audit -----------------------------------------------------------------------------


@router.get("/admin/audit")
def audit_page(
    request: Request,
    user_id: str = "",
    entity: str = "",
    entity_id: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    before: str = "",
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if user.role not in ("admin", "manager"):
        return forbidden_page(request, user)
    i18n.set_timezone(user.timezone)
    first, last = day(since), day(until)
    filters = audit.AuditFilters(
        entity=entity.strip()[:40] or None,
        entity_id=entity_id.strip()[:64] or None,
        actor_id=int(user_id) if user_id.isdigit() else None,
        action=action[:20] or None,
        since=day_start(first) if first else None,
        until=day_start(last + timedelta(days=1)) if last else None,
    )
    rows, after = audit.page(db, filters, before=cursor(before), limit=PAGE)
    people = {u.id: u for u in db.query(User).order_by(User.full_name, User.username)}
    return render(
        request,
        "admin/audit.html",
        {
            "title": _("Audit log"),
            "rows": [(r, audit.side_by_side(r.changes or {})) for r in rows],
            "people": people,
            "f": {
                "user_id": user_id,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "since": since,
                "until": until,
            },
            "entities": audit.ENTITIES,
            "actions": {k: _(v) for k, v in ACTION_LABELS.items()},
            "next_query": query_without(request, "before"),
            "next_cursor": cursor_text(after),
            "first_page": not before,
        },
        user=user,
    )


# --- call log --------------------------------------------------------------------------


def call_filters(request: Request, user: Principal) -> tuple[browse.CallFilters, dict[str, str]]:
    """The filters of the page's query (days in the user's zone; default: the last 7 days)."""
    q = request.query_params
    today = utcnow().astimezone(i18n.local_zone()).date()
    f = {
        k: (q.get(k) or "").strip()[:64]
        for k in (
            "since",
            "until",
            "disposition",
            "extension",
            "queue",
            "client",
            "direction",
            "number",
        )
    }
    if "since" not in q:
        f["since"] = (today - timedelta(days=6)).isoformat()
    first, last = day(f["since"]), day(f["until"])
    filters = browse.CallFilters(
        since=day_start(first) if first else None,
        until=day_start(last + timedelta(days=1)) if last else None,
        disposition=f["disposition"] if f["disposition"] in DISPOSITIONS else None,
        extension=f["extension"] or None,
        queue=f["queue"] or None,
        client_id=int(f["client"]) if f["client"].isdigit() else None,
        direction=f["direction"] if f["direction"] in DIRECTIONS else None,
        number=f["number"] or None,
    )
    return filters, f


def recordings_dir() -> Path | None:
    folder = get_settings().recordings_dir
    return Path(folder).resolve() if folder else None


def recording_file(call: Call) -> Path | None:
    """The call's recording on disk, only inside ``recordings_dir`` (never elsewhere)."""
    folder = recordings_dir()
    if folder is None or not call.recording:
        return None
    path = Path(call.recording)
    path = (path if path.is_absolute() else folder / path).resolve()
    if folder not in path.parents or not path.is_file():
        return None
    return path


@router.get("/calls")
def calls_page(
    request: Request,
    before: str = "",
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    i18n.set_timezone(user.timezone)
    filters, f = call_filters(request, user)
    rows, after = browse.page(db, user, filters, before=cursor(before), limit=PAGE)
    sums = browse.totals(db, user, filters)
    names = browse.client_names(db, {r.client_id for r in rows if r.client_id})
    return render(
        request,
        "calls.html",
        {
            "title": _("Calls"),
            "rows": rows,
            "names": names,
            "sums": sums,
            "f": f,
            "dispositions": {k: _(v) for k, v in DISPOSITION_LABELS.items()},
            "directions": {k: _(v) for k, v in DIRECTION_LABELS.items()},
            "players": recordings_dir() is not None,
            "export_query": query_without(request, "before"),
            "next_query": query_without(request, "before"),
            "next_cursor": cursor_text(after),
            "first_page": not before,
        },
        user=user,
    )


def export_headers() -> list[str]:
    return [
        _("Started"),
        _("Direction"),
        _("Number"),
        _("Client"),
        _("Queue"),
        _("Extension"),
        _("Result"),
        _("Wait, s"),
        _("Talk, s"),
        _("Note"),
    ]


def export_values(call: Call, client_name: str) -> list[Any]:
    started = call.started_at.astimezone(i18n.local_zone()).replace(tzinfo=None)
    ext = call.answered_extension or (call.rang[0] if call.rang else "")
    return [
        started.replace(microsecond=0),
        _(DIRECTION_LABELS.get(call.direction, call.direction)),
        call.number or call.e164 or "",
        client_name,
        call.queue,
        ext,
        _(DISPOSITION_LABELS.get(call.disposition, call.disposition)),
        round(call.wait_s, 1),
        round(call.talk_s, 1),
        call.note,
    ]


def _csv(rows: Iterator[tuple[Call, str]]) -> bytes:
    """Built whole before the answer leaves: the request's session closes with the route."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 (Ș, Ț, Russian) only with the mark
    writer = csv.writer(buffer)
    writer.writerow(export_headers())
    for call, name in rows:
        values = export_values(call, name)
        values[0] = values[0].isoformat(sep=" ")
        writer.writerow(values)
    return buffer.getvalue().encode("utf-8")


def _xlsx(rows: Iterator[tuple[Call, str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Calls"))
    sheet.append(export_headers())
    for call, name in rows:
        sheet.append(export_values(call, name))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/calls/export.{fmt}")
def export_calls(
    request: Request,
    fmt: str,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    """The call log with the page's filters and the reader's rights, as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        return message_page(
            request, user, lazy("Not found"), lazy("No such export format."), status_code=404
        )
    filters, _f = call_filters(request, user)
    rows = browse.export_rows(db, user, filters)
    stamp = utcnow().astimezone(i18n.local_zone()).strftime("%Y%m%d-%H%M")
    disposition = {"Content-Disposition": f'attachment; filename="calls-{stamp}.{fmt}"'}
    if fmt == "csv":
        return Response(_csv(rows), media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(
        _xlsx(rows),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=disposition,
    )


@router.get("/calls/{call_id}/recording")
def call_recording(
    request: Request,
    call_id: RowId,
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    """The recording of a call the user may see (404 for others' calls and missing files)."""
    try:
        call = get_call(db, user, call_id)
    except (NotFound, Invalid):
        call = None
    path = recording_file(call) if call is not None else None
    if path is None:
        return message_page(
            request, user, lazy("Not found"), lazy("No recording of this call."), status_code=404
        )
    kinds = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".gsm": "audio/x-gsm"}
    return FileResponse(path, media_type=kinds.get(path.suffix.lower(), "application/octet-stream"))
