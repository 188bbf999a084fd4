"""What every page of the web UI shares: templates, the logged-in context, CSRF, rendering, refusals."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import SessionDep, make_ctx
from api.web import i18n
from api.web.session import CSRF_FIELD, csrf_ok, load, save, touch
from dispensing.db import transaction
from dispensing.enums import Drug, Role
from dispensing.errors import DispensingError, InvalidInput
from dispensing.models import User
from dispensing.services.context import Ctx

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.globals.update(
    _=i18n.gettext,
    fmt_mg=i18n.mg,
    fmt_day=i18n.day,
    short_day=i18n.short_day,
    say=i18n.say,
    stored=i18n.stored,
    word=i18n.word,
    fmt_promille=i18n.promille,
    drug_name=i18n.drug_name,
    SANCTION_STEP=i18n.SANCTION_STEP,
    BREACH_KIND=i18n.BREACH_KIND,
    WEEKDAYS=i18n.WEEKDAYS,
    WEEKDAYS_SHORT=i18n.WEEKDAYS_SHORT,
    CSRF_FIELD=CSRF_FIELD,
    stock_alert_text=i18n.stock_alert_text,
)
templates.env.filters["short_day"] = i18n.short_day
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


class LoginRequired(Exception):
    """Not logged in (or the session ran out): go to the login page, then come back."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class CsrfRefused(Exception):
    """A POST without the session's CSRF token: refused before anything runs."""


def web_ctx(request: Request, session: SessionDep) -> Ctx:
    """The logged-in user's context for this request (one transaction, like the API's)."""
    ui = load(request)
    user = session.get(User, ui.user_id) if ui.user_id is not None else None
    if (
        user is not None
        and user.sessions_ended_at is not None
        and (ui.login_at or 0) <= user.sessions_ended_at.timestamp()
    ):
        user = None  # logged out since this session began (on this or another browser)
    if user is None or not user.active:
        if ui.user_id is not None:
            ui.logout()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/ui/")
    touch(request, ui)
    # For an error page after the transaction is gone: who is logged in (plain values, no ORM object).
    request.state.web_user = SimpleNamespace(full_name=user.full_name, role=user.role)
    return make_ctx(request, session, user)


WebCtx = Annotated[Ctx, Depends(web_ctx)]


def posted_ctx(request: Request, ctx: WebCtx, token: Annotated[str | None, Form(alias=CSRF_FIELD)] = None) -> Ctx:
    """A logged-in POST: the form must carry the session's CSRF token, else nothing runs (403)."""
    if not csrf_ok(load(request), token):
        raise CsrfRefused()
    return ctx


PostCtx = Annotated[Ctx, Depends(posted_ctx)]


def anon_csrf(request: Request, token: Annotated[str | None, Form(alias=CSRF_FIELD)] = None) -> None:
    """The login form is protected too (no login CSRF)."""
    if not csrf_ok(load(request), token):
        raise CsrfRefused()


def require(ctx: Ctx, *roles: Role) -> None:
    """Which pages a role sees (the services check again for every action)."""
    ctx.require(*roles)


def nav_for(user) -> list[tuple[str, str]]:
    if user is None:
        return []
    items = {
        Role.NURSE: [
            ("/ui/roster", "Window"),
            ("/ui/patients", "Patients"),
            ("/ui/stock", "Stock"),
            ("/ui/calendar", "Closed days"),
        ],
        Role.ADMIN: [
            ("/ui/roster", "Window"),
            ("/ui/patients", "Patients"),
            ("/ui/stock", "Stock"),
            ("/ui/calendar", "Closed days"),
        ],
        Role.DOCTOR: [
            ("/ui/doctor", "Doctor's desk"),
            ("/ui/patients", "Patients"),
            ("/ui/roster", "Window"),
            ("/ui/stock", "Stock"),
            ("/ui/calendar", "Closed days"),
        ],
        Role.SITE_STAFF: [("/ui/site", "Pickup site")],
    }
    return [(href, i18n.gettext(label)) for href, label in items[user.role]]


def page(request: Request, name: str, ctx: Ctx | None = None, *, status: int = 200, **data: Any) -> HTMLResponse:
    """Render a template with the frame's data, and write the session cookie."""
    ui = load(request)
    user = ctx.actor if ctx else None
    data.update(
        user=user,
        csrf=ui.csrf,
        flash=ui.pop_flash(),
        nav=nav_for(user),
        path=request.url.path,
        role_name=i18n.gettext(f"role.{user.role.value}") if user else "",
        idle_seconds=request.app.state.settings.ui_idle_minutes * 60,
    )
    response = templates.TemplateResponse(request, name, data, status_code=status)
    return save(request, response)


def redirect(request: Request, url: str, message: str | None = None) -> Response:
    """303 after a POST (so a reload never repeats it), with an optional status message for the next page."""
    if message:
        load(request).say(message)
    return save(request, RedirectResponse(url, status_code=303))


Draw = Callable[[Ctx, DispensingError], Response]


class PageRefusal(Exception):
    """A refusal to show on the page the form came from.

    It leaves the request through its transaction (`dispensing.db.transaction`), which rolls the use
    case back, or keeps its changes when the service says so (`keep_changes`, e.g. the audit entry of a
    failed login); `install` then draws the page in a new transaction.
    """

    def __init__(self, error: DispensingError, draw: Draw) -> None:
        super().__init__(error.message)
        self.error, self.draw = error, draw

    @property
    def keep_changes(self) -> bool:
        return self.error.keep_changes


def attempt(ctx: Ctx, fn: Callable[..., Any], *args: Any, on_refusal: Draw, **kwargs: Any) -> Any:
    """Run one use case of the services; a refusal is drawn by `on_refusal(ctx, error)` (see PageRefusal).
    `on_refusal` gets a fresh context: the refused transaction's objects are gone, read again by id."""
    try:
        return fn(ctx, *args, **kwargs)
    except DispensingError as exc:
        raise PageRefusal(exc, on_refusal) from exc


def draw_refusal(request: Request, exc: PageRefusal) -> Response:
    """The page of a refused form, in its own transaction (the request's was rolled back)."""
    with transaction(request.app.state.session_factory) as session:
        ui = load(request)
        user = session.get(User, ui.user_id) if ui.user_id is not None else None
        return exc.draw(make_ctx(request, session, user if user and user.active else None), exc.error)


def refusal(exc: DispensingError | None) -> dict | None:
    """What the page shows for a refusal: its Danish sentence (from its code) and the code itself."""
    if exc is None:
        return None
    return {"danish": i18n.say(exc), "code": exc.code, "status": exc.status_code}


def error_page(request: Request, status: int, title: str, text: str, code: str | None = None) -> HTMLResponse:
    ui = load(request)
    user = getattr(request.state, "web_user", None) if ui.user_id is not None else None
    data = {
        "title": title,
        "text": text,
        "code": code,
        "user": user,
        "csrf": ui.csrf,
        "flash": None,
        "nav": nav_for(user),
        "path": request.url.path,
        "role_name": i18n.gettext(f"role.{user.role.value}") if user else "",
    }
    return save(request, templates.TemplateResponse(request, "error.html", data, status_code=status))


def login_redirect(request: Request, exc: LoginRequired) -> Response:
    return save(request, RedirectResponse(f"/ui/login?next={quote(exc.next_url, safe='/')}", status_code=303))


def parse_date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def parse_drug(code: str) -> Drug:
    """A drug posted by a form; refused (422, with a code) when there is no such drug."""
    try:
        return Drug(code)
    except ValueError:
        raise InvalidInput("order.unknown_drug", code=code) from None
