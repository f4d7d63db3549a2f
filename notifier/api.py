"""Notifier routes: every notifier domain's router, mounted as is by the app factory.

Every path starts with ``/api/notifier``.
"""

from __future__ import annotations

from fastapi import APIRouter

from notifier.inbound.api import router as inbound_router
from notifier.newsletters.api import router as newsletters_router
from notifier.outbox.api import router as outbox_router
from notifier.quiet_hours.api import router as quiet_hours_router
from notifier.reminders.api import router as reminders_router
from notifier.simulator.handset_api import router as handset_router
from notifier.sms_segments.api import router as sms_segments_router
from notifier.surveys.api import router as surveys_router
from notifier.templates.api import router as templates_router

router = APIRouter()
for domain_router in (
    outbox_router,
    sms_segments_router,
    reminders_router,
    templates_router,
    surveys_router,
    inbound_router,
    handset_router,
    newsletters_router,
    quiet_hours_router,
):
    router.include_router(domain_router)
