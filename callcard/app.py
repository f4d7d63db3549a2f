"""The app factory: every part's routes (:data:`callcard.parts.ROUTERS`) on one FastAPI app, and
the embedded background services started and stopped with it."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from callcard.api_docs import mount_api_docs
from callcard.parts import ROUTERS, connect_parts, embedded_services
from callcard.schema import ensure_migrated
from callcard.settings import get_settings
from crm_core.apitypes import ERROR_RESPONSES
from crm_core.body_limit import BodyLimitMiddleware
from crm_core.bus import get_bus
from crm_core.database import database_reachable, get_engine
from crm_core.errors import ServiceError
from crm_core.services import BackgroundService, prefer_latency, started_up
from dashboard.error_pages import http_error
from dashboard.hub import hub
from dashboard.i18n.server_messages import (
    request_language,
    service_error_body,
    validation_message,
)
from dashboard.security_headers import SecurityHeaders

log = logging.getLogger("callcard")


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = get_settings()
    prefer_latency()
    ensure_migrated(get_engine())
    bus = get_bus()
    await bus.start()
    await hub.start(bus)
    started: list[BackgroundService] = []
    try:
        for service in embedded_services(settings):
            await service.start()
            started.append(service)
            log.info("started %s", service.name)
        started_up()
        yield
    finally:
        for service in reversed(started):
            try:
                await service.stop()
            except Exception:
                log.exception("stopping %s failed", service.name)
        await hub.stop()
        await bus.stop()


def create_app() -> FastAPI:
    connect_parts()
    app = FastAPI(
        title="Callcard",
        version="0.1.0",
        description="Self-hosted call-center CRM: client base, caller popups, reminders, surveys.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # every operation may answer these (sign-in, rights, body size, validation): documented
        # once for all, each router adds its own (409, 503...)
        responses=ERROR_RESPONSES,
    )
    mount_api_docs(app)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        body = service_error_body(exc, request_language(request.headers))
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        language = request_language(request.headers)
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "msg": validation_message(e, language),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]

    @app.get("/healthz", tags=["system"], summary="Liveness and database reachability")
    def healthz() -> JSONResponse:
        ok = database_reachable(get_engine())
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "database": ok}, status_code=200 if ok else 503
        )

    for router in ROUTERS:
        app.include_router(router)
    return app
