"""All crm_core routes, mounted under /api by the app factory."""

from fastapi import APIRouter

from crm_core.auth.api import router as auth_router

router = APIRouter(prefix="/api")
router.include_router(auth_router)
