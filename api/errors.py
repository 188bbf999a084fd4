"""Every error answer of the API, documented and in one shape: {"detail", "code", "params"}.

The handlers here turn what can go wrong below the routers into that shape: invalid input (422),
a value the database cannot store (422), two writers at once (409), a lost or unreachable database
(503 with Retry-After), and anything unexpected (500). None of them logs an exception's message or
parameters: a database error's text can hold a CPR number (SQLAlchemy prints the statement's values,
PostgreSQL's DETAIL repeats the row), so logs get the exception's type and the code's stack only.
"""

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.asgi import HttpMiddleware
from dispensing import messages

log = logging.getLogger("dispensing.api")

RETRY_AFTER_SECONDS = 5  # a dropped database connection is usually back within a few seconds


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the API."""

    detail: str = Field(description="the message, in Danish with Accept-Language: da")
    code: str = Field(description="stable dotted code of the rule that refused, e.g. slot.already_dispensed")
    params: dict[str, Any] = Field(description="the values the message names; for request.invalid: errors")


_DOCUMENTED = {
    401: "not logged in, or the login has expired",
    403: "your role may not do this",
    404: "no such record (also for an id that cannot exist)",
    409: "conflicts with the current state, or another user changed the same records at the same moment",
    422: "invalid input: code request.invalid lists the field errors in params.errors",
    429: "too many failed password attempts: wait Retry-After seconds",
    503: "the database is unreachable; nothing was saved: try again after Retry-After seconds",
}
# Passed to FastAPI(responses=...): every route documents these error answers with ErrorBody.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _DOCUMENTED.items()
}


def body(code: str, request: Request, **params: Any) -> dict:
    """An error body for a code of the catalogues, in the client's language."""
    locale = messages.negotiate(request.headers.get("accept-language"))
    return {"detail": messages.text(code, params, locale), "code": code, "params": params}


def redacted_traceback(exc: BaseException) -> str:
    """The stack and the exception types, without any exception's message (it may hold patient data)."""
    te = traceback.TracebackException.from_exception(exc)
    parts = []
    while te is not None:
        parts.append("".join(te.stack.format()) + f"{te.exc_type.__module__}.{te.exc_type.__qualname__}")
        te = te.__cause__ or te.__context__
    return "\n-- caused by --\n".join(parts)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as plain JSON (loc, msg, type), without the echoed input (could be a CPR)."""
    return [
        {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e["type"]}
        for e in exc.errors()
    ]


def _is_conflict(exc: OperationalError) -> bool:
    # PostgreSQL deadlock (40P01) or serialization failure (40001), SQLite "database is locked".
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40P01", "40001") or "locked" in str(exc.orig)


def unavailable(request: Request) -> JSONResponse:
    return JSONResponse(
        body("service.database_unavailable", request, retry_after=RETRY_AFTER_SECONDS),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install(app: FastAPI) -> None:
    """Register the handlers and the outermost catch-all on the app."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = _field_errors(exc)
        fields = ", ".join(".".join(e["loc"][1:] if len(e["loc"]) > 1 else e["loc"]) for e in errors)
        return JSONResponse(body("request.invalid", request, fields=fields, errors=errors), status_code=422)

    @app.exception_handler(OperationalError)
    async def busy_or_gone(request: Request, exc: OperationalError):
        if _is_conflict(exc):
            log.warning("transaction conflict: rolled back")
            return JSONResponse(body("transaction.conflict", request), status_code=409)
        log.error("database unreachable (%s): rolled back", type(exc.orig).__name__)
        return unavailable(request)

    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def gone(request: Request, exc: Exception):
        log.error("database unreachable (%s): rolled back", type(exc).__name__)
        return unavailable(request)

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError):
        log.warning("integrity conflict: %s", type(exc.orig).__name__)
        return JSONResponse(body("transaction.integrity_conflict", request), status_code=409)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def unstorable(request: Request, exc: Exception):
        # A value the database refused (PostgreSQL: NUL in text, a number beyond BIGINT; SQLite: an
        # integer beyond 64 bits). The request's transaction was rolled back.
        log.warning("value the database cannot store: %s", type(getattr(exc, "orig", exc)).__name__)
        return JSONResponse(body("request.unstorable", request), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # The framework's own refusals (no such path, wrong method) in the same shape as the rest.
        if exc.status_code == 400:  # a body that is not JSON at all: invalid input like any other
            errors = [{"loc": ["body"], "msg": "not valid JSON", "type": "json_invalid"}]
            return JSONResponse(body("request.invalid", request, fields="body", errors=errors), status_code=422)
        code = {404: "request.no_such_path", 405: "request.method_not_allowed"}.get(exc.status_code, "request.refused")
        return JSONResponse(body(code, request), status_code=exc.status_code, headers=exc.headers)

    app.add_middleware(CatchAll)


class CatchAll(HttpMiddleware):
    """The outermost safety net: an unexpected error is a JSON 500 and the connection stays usable.

    Starlette's own last handler re-raises into the server, which logs the exception's text and drops
    the keep-alive connection; this answers, logs a redacted trace, and does not re-raise.
    """

    async def http(self, scope, receive, send) -> None:
        started = False

        async def tracking_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            request = Request(scope)
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                log.error("database connection lost: %s", type(exc.orig).__name__)
                response = unavailable(request)
            else:
                log.error("unhandled error in %s %s:\n%s", scope["method"], scope["path"], redacted_traceback(exc))
                response = JSONResponse(body("server.error", request), status_code=500)
            if not started:
                await response(scope, receive, send)
