"""The FastAPI application: routers, the error handlers (api/errors.py), the engine on app.state."""

import inspect
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from api import errors, web
from api.errors import ERROR_RESPONSES
from api.guards import UrlGuard
from api.headers import SecurityHeaders
from api.options import AllowedMethods
from api.routers import (
    auth,
    calendar,
    conduct,
    contingency,
    corrections,
    fhir,
    followup,
    labels,
    patients,
    policy,
    prescriptions,
    review,
    sites,
    stock,
    urine,
    window,
)
from dispensing import messages
from dispensing.config import Settings, get_settings
from dispensing.db import make_engine, make_session_factory
from dispensing.errors import DispensingError
from dispensing.labels import load_or_create_signing_key
from dispensing.services import audit, audit_seal

log = logging.getLogger("dispensing.api")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DropQueryStrings(logging.Filter):
    """Access logs keep the path but not the query: a search like ?q=0101701234 is a CPR number."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = args[2].split("?", 1)[0] + ("?…" if "?" in args[2] else "")
            record.args = tuple(args)
        return True


def _redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, DropQueryStrings) for f in access.filters):
        access.addFilter(DropQueryStrings())


# FastAPI's own OpenTelemetry hooks, decided deliberately: once an exporter is configured they would
# export unhandled exceptions' messages and rejected input values (logs) and every URL's query string
# (trace spans; ?q= is a CPR search). Both stay off; metrics carry only method, route and status.
# Exporters are never added from the environment behind the operator's back (auto_configure).
TELEMETRY = {"logs": False, "tracing": False, "operation_spans": False, "auto_configure": False}
_TELEMETRY = {"telemetry": TELEMETRY} if "telemetry" in inspect.signature(FastAPI).parameters else {}


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Callable[[], datetime] = _utcnow
) -> FastAPI:
    """Build the app. Tests pass their own engine and clock."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Failed password attempts wait in the audit inbox; this process chains them now and then
        # (services/audit.py). The factory is read at each sweep: tests put their own on app.state.
        sweeper = None
        if settings.audit_sweep_seconds > 0:
            sweeper = audit.InboxSweeper(lambda: app.state.session_factory, settings.audit_sweep_seconds)
            sweeper.start()
        yield
        if sweeper is not None:
            sweeper.stop()

    app = FastAPI(
        title="Dispensing",
        lifespan=lifespan,
        version="0.1.0",
        description="Medication dispensing and substitution treatment (rusmiddelcenter).",
        responses=ERROR_RESPONSES,
        **_TELEMETRY,
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(
        settings.database_url,
        echo=settings.sql_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.secret = settings.resolved_secret()
    app.state.clock = clock
    app.state.label_key = load_or_create_signing_key(settings.label_key_path)
    audit_seal.configure(settings.resolved_audit_key(), settings.audit_checkpoint_path)
    _redact_access_log()

    @app.exception_handler(DispensingError)
    async def domain_error(request: Request, exc: DispensingError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
        if exc.status_code == 429:  # throttled: when to try again
            headers["Retry-After"] = str(exc.params.get("retry_after", 60))
        return JSONResponse(error_body(exc, request), status_code=exc.status_code, headers=headers)

    errors.install(app)  # 422/409/503/500 in the one error shape; no exception text in any log
    app.add_middleware(UrlGuard)  # impossible ids and NUL bytes in the URL, before any route
    app.add_middleware(AllowedMethods)  # OPTIONS and 405 name every method of the path
    app.add_middleware(SecurityHeaders)  # outermost: every answer, errors included

    for module in (
        auth,
        sites,
        calendar,
        patients,
        prescriptions,
        window,
        contingency,  # before labels: /dispenses/entered-afterwards is not /dispenses/{id}
        corrections,
        labels,
        conduct,
        followup,
        review,
        policy,
        urine,
        fhir,
        stock,
    ):
        app.include_router(module.router)
    web.install(app)  # the browser UI under /ui (api/web/), on the same services
    return app


def serve_app() -> FastAPI:
    """The app of one worker process of `dispensing serve --workers N` (settings from the environment)."""
    from dispensing.runtime import tune_garbage_collector

    app = create_app()
    tune_garbage_collector()
    return app


def error_body(exc: DispensingError, request: Request) -> dict:
    """The API's error body: the message (Danish with `Accept-Language: da`), its stable code, its values."""
    locale = messages.negotiate(request.headers.get("accept-language"))
    return {"detail": exc.text(locale), "code": exc.code, "params": {k: _plain(v) for k, v in exc.params.items()}}


def _plain(value):
    """A parameter as JSON: decimals as strings (doses are never binary floats), dates in ISO form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value
