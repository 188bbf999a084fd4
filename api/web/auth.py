"""Log in, log out, and the start page of each role."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from api.deps import AnonCtxDep
from api.web import i18n
from api.web.common import Draw, PostCtx, WebCtx, anon_csrf, attempt, page, redirect, refusal
from api.web.session import load, save
from dispensing.enums import Role
from dispensing.services.users import authenticate

router = APIRouter()

HOME = {Role.NURSE: "/ui/roster", Role.ADMIN: "/ui/roster", Role.DOCTOR: "/ui/doctor", Role.SITE_STAFF: "/ui/site"}


def safe_next(url: str | None) -> str | None:
    """Only a path inside the UI (never another host) is followed after login."""
    if url and url.startswith("/ui") and not url.startswith("//") and "\\" not in url and "://" not in url:
        return url
    return None


@router.get("/", include_in_schema=False)
def root():
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui", include_in_schema=False)
@router.get("/ui/", include_in_schema=False)
def home(request: Request, ctx: WebCtx):
    return save(request, RedirectResponse(HOME[ctx.actor.role], status_code=303))


@router.get("/ui/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None):
    ui = load(request)
    if ui.expired == "idle":
        notice = i18n.gettext(
            "You were logged out after {minutes} minutes without activity. Log in again.",
            minutes=request.app.state.settings.ui_idle_minutes,
        )
    elif ui.expired == "max":
        notice = i18n.gettext("Your login has expired. Log in again.")
    elif ui.user_id is None and next:
        notice = i18n.gettext("Log in to continue.")
    else:
        notice = None
    if ui.expired:
        ui.expired, ui.dirty = None, True
    return page(request, "login.html", next=safe_next(next) or "", notice=notice, error=None, username="")


def _login_refused(request: Request, next: str, username: str) -> Draw:
    """The login form again, with why (the failed attempt's audit entry is kept: keep_changes)."""

    def draw(_ctx, error):
        response = page(
            request,
            "login.html",
            status=error.status_code,  # 401 wrong password, 429 throttled
            next=safe_next(next) or "",
            notice=None,
            error=refusal(error),
            username=username,
        )
        if error.status_code == 429:
            response.headers["Retry-After"] = str(error.params.get("retry_after", 60))
        return response

    return draw


@router.post("/ui/login", include_in_schema=False, dependencies=[Depends(anon_csrf)])
def login(
    request: Request,
    ctx: AnonCtxDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
):
    """Checks the password with the same use case as POST /auth/token (a failure is audited)."""
    user = attempt(ctx, authenticate, username.strip(), password, on_refusal=_login_refused(request, next, username))
    ui = load(request)
    ui.login(user.id, ctx.now)
    if user.sessions_ended_at is not None and ui.login_at <= user.sessions_ended_at.timestamp():
        ui.login_at = user.sessions_ended_at.timestamp() + 0.001  # a login in the very instant of a logout
    return redirect(request, safe_next(next) or HOME[user.role])


@router.post("/ui/logout", include_in_schema=False)
def logout(request: Request, ctx: PostCtx):
    """Ends the login on the server too: this user's browser sessions begun until now stop working,
    so a copied cookie is worth nothing after the logout."""
    ctx.actor.sessions_ended_at = ctx.now
    load(request).logout()
    return redirect(request, "/ui/login", i18n.gettext("You are logged out."))
