"""The app factory: mounts every part's routes in one place and runs the embedded services."""

from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from crm_core.bus import get_bus
from crm_core.config import Settings, get_settings
from crm_core.database import database_reachable, ensure_migrated, get_engine
from crm_core.errors import ServiceError
from crm_core.services import BackgroundService, prefer_latency, started_up
from dashboard.hub import hub

log = logging.getLogger("callcard")

#: parts that contribute routers (``module:router``) and embedded services (``module``)
ROUTERS = ["crm_core.api", "cti.api", "notifier.api", "voicebots.api", "dashboard.api"]
RUNTIMES = [
    "crm_core.runtime",
    "dashboard.runtime",
    "cti.runtime",
    "notifier.runtime",
    "voicebots.runtime",
]


def _optional(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


def embedded_services(settings: Settings) -> list[BackgroundService]:
    services: list[BackgroundService] = []
    for name in RUNTIMES:
        module = _optional(name)
        if module is not None:
            services.extend(module.embedded_services(settings))
    return services


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
    import notifier.hooks  # noqa: F401  (reminders/surveys join the client base's transactions)

    app = FastAPI(
        title="Callcard",
        version="0.1.0",
        description="Self-hosted call-center CRM: client base, caller popups, reminders, surveys.",
        lifespan=lifespan,
    )

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.get("/healthz", tags=["system"], summary="Liveness and database reachability")
    def healthz() -> JSONResponse:
        ok = database_reachable(get_engine())
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "database": ok}, status_code=200 if ok else 503
        )

    for name in ROUTERS:
        module = _optional(name)
        if module is not None:
            app.include_router(module.router)
    from dashboard.ws import router as ws_router

    app.include_router(ws_router)
    return app
