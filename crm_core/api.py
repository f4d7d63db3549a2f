"""All crm_core routes, mounted under /api by the app factory."""

from fastapi import APIRouter

from crm_core.attachments.api import router as attachments_router
from crm_core.audit.api import router as audit_router
from crm_core.auth.api import router as auth_router
from crm_core.clients.api import router as clients_router
from crm_core.customfields.api import router as customfields_router
from crm_core.exchange.api import router as exchange_router
from crm_core.history.api import router as history_router
from crm_core.search.api import router as search_router
from crm_core.tasks.api import router as tasks_router
from crm_core.users.api import router as users_router

router = APIRouter(prefix="/api")
router.include_router(auth_router)
for _records in (
    clients_router,
    search_router,
    users_router,
    customfields_router,
    history_router,
    tasks_router,
    attachments_router,
    audit_router,
    exchange_router,
):
    router.include_router(_records)
