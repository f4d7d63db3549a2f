"""The administration area's front page: one tile per job, shown to the roles allowed to do it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request

from crm_core.auth.principal import Principal
from dashboard.i18n import _, lazy
from dashboard.views.common import forbidden_page, page_user, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class AdminScreen:
    href: str
    title: str
    description: str
    roles: tuple[str, ...] = ("admin",)


#: every administration screen, grouped as the hub shows them
SCREENS: tuple[tuple[str, tuple[AdminScreen, ...]], ...] = (
    (
        lazy("People"),
        (
            AdminScreen(
                "/admin/users",
                lazy("Users"),
                lazy("Operators, managers and admins: extensions, roles, passwords."),
                ("admin", "manager"),
            ),
            AdminScreen("/admin/teams", lazy("Teams"), lazy("Who sees whose clients.")),
            AdminScreen(
                "/admin/wall-tokens",
                lazy("Wall screens"),
                lazy("Links for the TV on the wall; revoke a lost one."),
                ("admin", "manager"),
            ),
        ),
    ),
    (
        lazy("Client base"),
        (
            AdminScreen(
                "/admin/fields",
                lazy("Custom fields"),
                lazy("Extra fields on the client card, their order and choices."),
            ),
            AdminScreen(
                "/admin/choices",
                lazy("Choice lists"),
                lazy(
                    "Categories, sources, history types and results, order statuses, call dispositions."
                ),
            ),
            AdminScreen(
                "/admin/labels", lazy("Field labels"), lazy("Rename the fields every page shows.")
            ),
            AdminScreen(
                "/import",
                lazy("Import"),
                lazy("Clients from a spreadsheet, a phone or another program."),
                ("admin", "manager"),
            ),
            AdminScreen(
                "/admin/audit",
                lazy("Audit log"),
                lazy("Who changed what, before and after."),
                ("admin", "manager"),
            ),
        ),
    ),
    (
        lazy("Messages"),
        (
            AdminScreen(
                "/admin/templates",
                lazy("Message templates"),
                lazy("SMS, e-mail and voice texts in every language."),
            ),
            AdminScreen(
                "/admin/reminder-rules",
                lazy("Reminder rules"),
                lazy("When clients get reminders before their appointments."),
            ),
            AdminScreen(
                "/admin/quiet-hours",
                lazy("Quiet hours"),
                lazy("Hours when no message leaves for clients."),
            ),
            AdminScreen(
                "/newsletters",
                lazy("Newsletters"),
                lazy("Compose, pick recipients, send, follow delivery."),
                ("admin", "manager"),
            ),
            AdminScreen(
                "/outbox", lazy("Outbox"), lazy("Every message leaving, its status and retries.")
            ),
        ),
    ),
    (
        lazy("Sales"),
        (
            AdminScreen(
                "/admin/order-statuses",
                lazy("Order statuses and VAT rates"),
                lazy("The steps an order goes through, the SMS each sends, the VAT rates."),
            ),
            AdminScreen(
                "/admin/company",
                lazy("Company details"),
                lazy("Name, tax id, bank account and logo on printed documents."),
            ),
            AdminScreen(
                "/admin/document-templates",
                lazy("Print forms"),
                lazy("Invoice, contract and act templates in Word and PDF."),
            ),
        ),
    ),
    (
        lazy("System"),
        (
            AdminScreen(
                "/admin/backups",
                lazy("Backups"),
                lazy("Copies of all data: run now, download, last verification."),
            ),
        ),
    ),
)


def screens_for(role: str) -> list[tuple[str, list[AdminScreen]]]:
    groups = [(title, [s for s in screens if role in s.roles]) for title, screens in SCREENS]
    return [(title, screens) for title, screens in groups if screens]


@router.get("/admin")
def admin_hub(request: Request, user: Principal = Depends(page_user)):
    if user.role not in ("admin", "manager"):
        return forbidden_page(request, user)
    groups = [
        (_(title), [AdminScreen(s.href, _(s.title), _(s.description), s.roles) for s in screens])
        for title, screens in screens_for(user.role)
    ]
    return render(
        request, "admin/hub.html", {"groups": groups, "title": _("Administration")}, user=user
    )
