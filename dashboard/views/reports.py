"""``/reports``: calls, CSAT and tasks for a period (charts + tables), XLSX export, the JSON API
and the manager's opt-in to a scheduled report e-mail."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from crm_core.auth.deps import managers
from crm_core.auth.principal import Principal
from crm_core.database import request_session
from crm_core.errors import Invalid
from dashboard import i18n
from dashboard.i18n import _
from dashboard.reports import periods, service, subscriptions, xlsx
from dashboard.reports.schemas import SubscriptionIn, SubscriptionOut
from dashboard.views.common import forbidden_page, page_user, render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/reports", tags=["reports"])

REPORTS = ("calls", "csat", "tasks")


def _period(user: Principal, period: str | None, date_from: str | None, date_to: str | None):
    zone = periods.zone_of(getattr(user, "timezone", "") or None)
    return periods.resolve(period, zone, date_from=date_from, date_to=date_to)


def _day_label(day: date) -> str:
    return i18n.format_date(day, "d MMM")


def _charts(calls: dict, csat: dict, tasks: dict) -> dict[str, Any]:
    """What charts.js draws: labels and series, names already translated."""
    days = [_day_label(r["day"]) for r in calls["days"]]
    nobody = _("Not assigned")
    return {
        "calls_days": {
            "labels": days,
            "series": [
                {"name": _("Answered"), "values": [r["answered"] for r in calls["days"]]},
                {"name": _("Missed"), "values": [r["missed"] for r in calls["days"]]},
                {"name": _("Abandoned"), "values": [r["abandoned"] for r in calls["days"]]},
            ],
        },
        "sl_days": {
            "labels": days,
            "unit": "%",
            "max": 100,
            "series": [
                {
                    "name": _("Service level"),
                    "values": [r["service_level"] for r in calls["days"]],
                }
            ],
        },
        "calls_hours": {
            "labels": [f"{r['hour']:02d}" for r in calls["hours"]],
            "series": [{"name": _("Calls"), "values": [r["calls"] for r in calls["hours"]]}],
        },
        "csat_trend": {
            "labels": days,
            "max": 5,
            "series": [
                {"name": t["name"] or _("No team"), "values": [d["average"] for d in t["days"]]}
                for t in csat["trend"]
            ],
        },
        "tasks": {
            "labels": [r["name"] or nobody for r in tasks["people"]],
            "series": [
                {"name": _("Done"), "values": [r["done"] for r in tasks["people"]]},
                {"name": _("Overdue"), "values": [r["overdue"] for r in tasks["people"]]},
            ],
        },
        "no_data": _("No data for this period."),
    }


@router.get("/reports")
def reports_page(
    request: Request,
    period: str = "7d",
    date_from: str | None = None,
    date_to: str | None = None,
    direction: str = "inbound",
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    if user.role not in ("admin", "manager"):
        return forbidden_page(request, user)
    error = ""
    try:
        chosen = _period(user, period, date_from, date_to)
    except Invalid as exc:
        error = _("Choose a valid period: the end date not before the start, at most 366 days.")
        chosen = _period(user, "7d", None, None)
        del exc
    calls = service.call_report(db, chosen, direction)
    csat = service.csat_report(db, chosen)
    tasks = service.tasks_report(db, chosen)
    data = json.dumps(_charts(calls, csat, tasks), ensure_ascii=False, default=str)
    query = {"period": chosen.key, "direction": calls["direction"]}
    if chosen.key == "custom":
        query.update(date_from=chosen.first_day.isoformat(), date_to=chosen.last_day.isoformat())
    return render(
        request,
        "reports.html",
        {
            "title": _("Reports"),
            "period": chosen,
            "calls": calls,
            "csat": csat,
            "tasks": tasks,
            "error": error,
            "query": query,
            "subscription": subscriptions.frequency_of(db, user.id),
            "day_labels": [i18n.format_date(r["day"]) for r in calls["days"]],
            "hour_labels": [f"{r['hour']:02d}:00" for r in calls["hours"]],
            "operator_labels": [r["name"] or _("Not answered") for r in calls["operators"]],
            "queue_labels": [r["queue"] or _("No queue") for r in calls["queues"]],
            "chart_data": Markup(data.replace("</", "<\\/")),
        },
        user=user,
    )


@router.get("/reports/export.xlsx")
def export_report(
    request: Request,
    report: str = "calls",
    period: str = "7d",
    date_from: str | None = None,
    date_to: str | None = None,
    direction: str = "inbound",
    user: Principal = Depends(page_user),
    db: Session = request_session,
):
    """One report as an XLSX workbook (headers in the user's language)."""
    if user.role not in ("admin", "manager"):
        return forbidden_page(request, user)
    chosen = _period(user, period, date_from, date_to)
    report = report if report in REPORTS else "calls"
    if report == "calls":
        content = xlsx.workbook_bytes((xlsx.add_calls, service.call_report(db, chosen, direction)))
    elif report == "csat":
        content = xlsx.workbook_bytes((xlsx.add_csat, service.csat_report(db, chosen)))
    else:
        content = xlsx.workbook_bytes((xlsx.add_tasks, service.tasks_report(db, chosen)))
    name = f"callcard-{report}-{chosen.first_day}-{chosen.last_day}.xlsx"
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- JSON API ---------------------------------------------------------------------------


def _report_body(db: Session, user: Principal, report: str, **query: Any) -> dict[str, Any]:
    direction = query.pop("direction")
    chosen = _period(user, query["period"], query["date_from"], query["date_to"])
    body: dict[str, Any] = {
        "period": chosen.key,
        "from": chosen.first_day.isoformat(),
        "to": chosen.last_day.isoformat(),
        "time_zone": chosen.zone.key,
    }
    if report == "calls":
        body.update(service.call_report(db, chosen, direction))
    elif report == "csat":
        body.update(service.csat_report(db, chosen))
    else:
        body.update(service.tasks_report(db, chosen))
    return body


def _report_route(report: str):
    def handler(
        period: str = "7d",
        date_from: str | None = None,
        date_to: str | None = None,
        direction: str = "inbound",
        user: Principal = Depends(managers),
        db: Session = request_session,
    ) -> dict[str, Any]:
        return _report_body(
            db, user, report, period=period, date_from=date_from, date_to=date_to,
            direction=direction,
        )  # fmt: skip

    return handler


for _name, _summary in (
    ("calls", "Calls per day, hour, operator and queue for a period"),
    ("csat", "CSAT per operator and team, with each team's daily trend"),
    ("tasks", "Tasks done in a period and overdue now, per employee"),
):
    api.add_api_route(f"/{_name}", _report_route(_name), methods=["GET"], summary=_summary)


@api.put("/subscription", response_model=SubscriptionOut, summary="Opt in to report e-mails")
def set_subscription(
    data: SubscriptionIn, user: Principal = Depends(managers), db: Session = request_session
) -> SubscriptionOut:
    subscriptions.set_frequency(db, user, data.frequency)
    return SubscriptionOut(frequency=data.frequency)


router.include_router(api)
