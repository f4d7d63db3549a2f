"""The backups page (admins): runs with size, status and verification, run now, download."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.backups.api import overview
from crm_core.backups.schemas import BackupRunOut
from crm_core.database import request_session
from dashboard import i18n
from dashboard.i18n import _
from dashboard.views.common import forbidden_page, page_user, render

router = APIRouter(include_in_schema=False)


def human_size(size: int | None) -> str:
    """1 234 567 bytes -> "1.2 MB" (decimal units, the user's number format)."""
    if size is None:
        return "—"
    units = (
        (i18n.pgettext("file size", "GB"), 10**9),
        (i18n.pgettext("file size", "MB"), 10**6),
        (i18n.pgettext("file size", "kB"), 10**3),
    )
    for unit, scale in units:
        if size >= scale:
            return f"{i18n.format_number(size / scale, 1)} {unit}"
    return f"{i18n.format_number(size)} {i18n.pgettext('file size', 'B')}"


def verification_shown(run: BackupRunOut) -> str:
    """What the verification found, as the reader reads it: a passed one from its counts
    (stored as English text with them), a known stored text translated, a tool's own error
    as it said it."""
    if run.verification == "passed" and run.rows is not None:
        return _(
            "Restored and matched: %(rows)s, %(files)s.",
            rows=i18n.ngettext("%(num)s row", "%(num)s rows", run.rows),
            files=i18n.ngettext("%(num)s file", "%(num)s files", run.files or 0),
        )
    return _(run.verification_detail) if run.verification_detail else ""


def labels() -> dict[str, dict[str, str] | str]:
    return {
        "status": {
            "running": _("Running"),
            "ok": _("Written"),
            "failed": _("Failed"),
            "interrupted": _("Interrupted"),
        },
        "verification": {
            "pending": _("Not yet verified"),
            "passed": _("Restore checked"),
            "failed": _("Does not restore"),
            "skipped": _("Not verified"),
        },
        "stage": {
            "database": _("Copying the database"),
            "archive": _("Writing the archive"),
            "verify": _("Verifying"),
            "check": _("Reading the archive back"),
            "scratch": _("Restoring into a scratch database"),
        },
        "trigger": {"schedule": _("Scheduled"), "manual": _("Run now"), "cli": _("Command line")},
    }


@router.get("/admin/backups")
def backups_page(
    request: Request, user: Principal = Depends(page_user), db: Session = request_session
):
    if user.role != "admin":
        return forbidden_page(request, user)
    data = overview(db)
    texts = labels()
    page_texts = {
        **texts,
        "started": _("The backup has started."),
        "failed_backup": _("The backup failed"),
        "failed_verification": _("The backup does not restore"),
        "done": _("The backup is finished."),
    }
    payload = json.dumps(page_texts, ensure_ascii=False).replace("</", "<\\/")
    return render(
        request,
        "admin/backups.html",
        {
            "o": data,
            "labels": texts,
            "size": human_size,
            "verification_shown": verification_shown,
            "translated": _,
            "page_i18n": Markup(payload),
        },
        user=user,
    )
