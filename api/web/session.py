"""The browser session: a signed cookie with the user, the last activity and the CSRF token.

The cookie is a JWT (HS256, the project's pyjwt) under a key derived from the app secret, so it can
never be mistaken for an API bearer token or the other way round. Time is the app's clock
(request.app.state.clock), so tests can move it. Nothing about the patient is stored in it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt
from fastapi import Request
from fastapi.responses import Response

COOKIE = "dispensing_ui"
COOKIE_PATH = "/ui"
CSRF_FIELD = "csrf_token"
_PURPOSE = b"dispensing-ui-session-v1"


def _key(secret: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


@dataclass
class UiSession:
    """What the cookie holds. user_id None = not logged in (still has a CSRF token for the login form)."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user_id: int | None = None
    login_at: float | None = None  # epoch seconds, the app's clock
    seen_at: float | None = None
    flash: str | None = None  # one status message for the next page (after a redirect)
    expired: str | None = None  # why the previous login ended ("idle" | "max"), for the login page
    dirty: bool = True  # write the cookie on the response

    def login(self, user_id: int, now: datetime) -> None:
        """A new login: a fresh CSRF token (no fixation), the clock starts."""
        self.csrf = secrets.token_urlsafe(24)
        self.user_id, self.login_at, self.seen_at, self.expired = user_id, now.timestamp(), now.timestamp(), None
        self.dirty = True

    def logout(self, *, expired: str | None = None) -> None:
        """End the login. Ran out (expired): the CSRF token stays, so the open form's next POST
        leads to the login page rather than a security refusal."""
        if expired is None:
            self.csrf = secrets.token_urlsafe(24)
        self.user_id = self.login_at = self.seen_at = None
        self.expired, self.dirty = expired, True

    def say(self, message: str) -> None:
        self.flash, self.dirty = message, True

    def pop_flash(self) -> str | None:
        message, self.flash = self.flash, None
        if message:
            self.dirty = True
        return message


def load(request: Request) -> UiSession:
    """The request's session (read once per request, cached on request.state)."""
    cached = getattr(request.state, "ui", None)
    if cached is not None:
        return cached
    state = request.app.state
    now = state.clock()
    ui = _decode(state.secret, request.cookies.get(COOKIE)) or UiSession()
    if ui.user_id is not None:
        idle = timedelta(minutes=state.settings.ui_idle_minutes).total_seconds()
        longest = timedelta(minutes=state.settings.access_token_minutes).total_seconds()
        if now.timestamp() - (ui.seen_at or 0) > idle:
            ui.logout(expired="idle")
        elif now.timestamp() - (ui.login_at or 0) > longest:
            ui.logout(expired="max")
    request.state.ui = ui
    return ui


def touch(request: Request, ui: UiSession) -> None:
    """A request of a logged-in user: the inactivity clock restarts."""
    ui.seen_at, ui.dirty = request.app.state.clock().timestamp(), True


def save(request: Request, response: Response) -> Response:
    """Write the session cookie onto the response when it changed (every UI response goes through here)."""
    ui = getattr(request.state, "ui", None)
    if ui is not None and ui.dirty:
        token = jwt.encode(
            {"c": ui.csrf, "u": ui.user_id, "l": ui.login_at, "s": ui.seen_at, "f": ui.flash, "x": ui.expired},
            _key(request.app.state.secret),
            algorithm="HS256",
        )
        response.set_cookie(
            COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
    response.headers.setdefault("Cache-Control", "no-store")  # health data: never in a shared cache
    return response


def csrf_ok(ui: UiSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(ui.csrf, submitted)


def _decode(secret: bytes, token: str | None) -> UiSession | None:
    if not token:
        return None
    try:
        data = jwt.decode(token, _key(secret), algorithms=["HS256"])
        return UiSession(
            csrf=str(data["c"]),
            user_id=data.get("u"),
            login_at=data.get("l"),
            seen_at=data.get("s"),
            flash=data.get("f"),
            expired=data.get("x"),
            dirty=False,
        )
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None
