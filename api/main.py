"""The FastAPI application: routers, one error handler, the engine on app.state."""

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import web
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


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Callable[[], datetime] = _utcnow
) -> FastAPI:
    """Build the app. Tests pass their own engine and clock."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Dispensing",
        version="0.1.0",
        description="Medication dispensing and substitution treatment (rusmiddelcenter).",
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url, echo=settings.sql_echo)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.secret = settings.resolved_secret()
    app.state.clock = clock
    app.state.label_key = load_or_create_signing_key(settings.label_key_path)
    _redact_access_log()

    @app.exception_handler(DispensingError)
    async def domain_error(request: Request, exc: DispensingError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(error_body(exc, request), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"] if x not in ("body", "query", "path"))
            parts.append(f"{where or 'request'}: {err['msg']}")
        problems = "; ".join(parts)
        body = error_body(DispensingError("input.fields_invalid", 422, problems=problems), request)
        return JSONResponse(body | {"errors": jsonable(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # Starlette's own answers (no such path, wrong method) in the same shape as every other error.
        code = {404: "request.no_such_path", 405: "request.method_not_allowed"}.get(exc.status_code, "request.refused")
        body = error_body(DispensingError(code, exc.status_code), request)
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: OperationalError):
        # PostgreSQL deadlock (40P01) or serialization failure (40001), SQLite "database is locked":
        # nothing was changed, so the honest answer is "try again".
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if code in ("40P01", "40001") or "locked" in str(exc.orig):
            log.warning("transaction conflict (%s): rolled back", code or "locked")
            return JSONResponse(error_body(DispensingError("state.busy", 409), request), status_code=409)
        raise exc

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError):
        log.warning("integrity conflict: %s", type(exc.orig).__name__)
        return JSONResponse(error_body(DispensingError("state.concurrent_change", 409), request), status_code=409)

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


def jsonable(errors: list[dict]) -> list[dict]:
    return [
        {k: (v if isinstance(v, str | int | float | list | None) else str(v)) for k, v in e.items() if k != "ctx"}
        for e in errors
    ]
