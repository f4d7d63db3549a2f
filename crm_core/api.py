"""All crm_core routes, mounted under /api by the app factory."""

from fastapi import APIRouter

from crm_core.attachments.api import router as attachments_router
from crm_core.audit.api import router as audit_router
from crm_core.auth.api import router as auth_router
from crm_core.backups.api import router as backups_router
from crm_core.calendar_feed.api import router as calendar_feed_router
from crm_core.catalog.api import router as catalog_router
from crm_core.clients.api import router as clients_router
from crm_core.contracts.api import router as contracts_router
from crm_core.customfields.api import router as customfields_router
from crm_core.documents.api import router as documents_router
from crm_core.exchange.api import router as exchange_router
from crm_core.history.api import router as history_router
from crm_core.invoices.api import router as invoices_router
from crm_core.invoices.api import webhook_router as payments_webhook
from crm_core.orders.api import public_router as public_orders_router
from crm_core.orders.api import router as orders_router
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
    backups_router,
    exchange_router,
    calendar_feed_router,
    catalog_router,
    orders_router,
    public_orders_router,
    contracts_router,
    invoices_router,
    payments_webhook,
    documents_router,
):
    router.include_router(_records)
