"""The browser UI (server-rendered, Danish) on the same services as the JSON API.

`install(app)` adds the routes under /ui, the static files, and HTML answers for refusals, an
expired login and a missing CSRF token on /ui paths (the API keeps its JSON errors).
"""

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from api.web import auth, calendar, corrections, doctor, i18n, orders, site, stock, window
from api.web.common import STATIC, CsrfRefused, LoginRequired, PageRefusal, draw_refusal, error_page, login_redirect
from dispensing.errors import DispensingError, Forbidden, NotFound


def _is_ui(request: Request) -> bool:
    return request.url.path == "/ui" or request.url.path.startswith("/ui/")


def install(app: FastAPI) -> None:
    for module in (auth, window, corrections, doctor, orders, site, stock, calendar):
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    json_domain_error = app.exception_handlers[DispensingError]
    json_invalid_request = app.exception_handlers[RequestValidationError]

    async def domain_error(request: Request, exc: DispensingError):
        if not _is_ui(request):
            return await json_domain_error(request, exc)
        title = {Forbidden: "No access", NotFound: "Not found"}.get(type(exc), "Refused")
        return error_page(request, exc.status_code, i18n.gettext(title), i18n.say(exc), exc.code)

    async def invalid_request(request: Request, exc: RequestValidationError):
        if not _is_ui(request):
            return await json_invalid_request(request, exc)
        return error_page(
            request, 422, i18n.gettext("Refused"), i18n.gettext("Invalid input: go back and correct the form.")
        )

    async def page_refusal(request: Request, exc: PageRefusal):
        try:
            return await run_in_threadpool(draw_refusal, request, exc)
        except DispensingError as drawn:  # e.g. the slot of a refused dispense does not exist
            return await domain_error(request, drawn)

    async def login_required(request: Request, exc: LoginRequired):
        return login_redirect(request, exc)

    async def csrf_refused(request: Request, exc: CsrfRefused):
        return error_page(
            request,
            403,
            i18n.gettext("Refused"),
            i18n.gettext(
                "The form has expired or was not sent from this page (security check). Nothing was changed: go back, "
                "reload the page and try again."
            ),
        )

    app.add_exception_handler(DispensingError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(PageRefusal, page_refusal)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
