"""Every password check, throttled: logins, and password re-entry (signing an order, a witness).

Wrong passwords are counted per user name and per client address in the database (table
auth_failures), so several server processes share one count. Once a limit is reached
(dispensing/rules/throttle.py) the next attempt is refused with 429 and a Retry-After *before* the
password is checked, so even the right password waits. A refused attempt writes nothing and takes no
lock. A counted failure is audited through the audit inbox (`audit.record_failure`): its commit never
waits for the audit chain's head, which every dispense locks. Nothing of this is on the dispensing path.

Use `verify_reentered_password` when the logged-in user re-enters their own password, and
`verify_witness` when a second person confirms with theirs (stock movements, voiding a handed-out dose).
"""

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select

from dispensing.enums import Role
from dispensing.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from dispensing.models import AuthFailure, User
from dispensing.rules import throttle
from dispensing.security import verify_password
from dispensing.services import audit
from dispensing.services.context import Ctx

log = logging.getLogger("dispensing.auth")

LOGIN = "login"
REENTRY = "reentry"
_KEEP = timedelta(days=1)  # failures older than this count for nothing and are removed
WITNESS_ROLES = (Role.NURSE, Role.DOCTOR, Role.ADMIN)  # staff who may witness (not pickup-site staff)


@dataclass(frozen=True)
class Witness:
    """The second person: a different, active staff member who re-enters their own password."""

    username: str
    password: str


def _key(ctx: Ctx, kind: str, value: str) -> str:
    """A keyed hash: the table never holds a typed user name (often a password in the wrong field)."""
    return hmac.new(ctx.secret, f"throttle-{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def _keys(ctx: Ctx, username: str) -> tuple[str, str]:
    return _key(ctx, "user", username.strip().lower()), _key(ctx, "address", ctx.client or "unknown")


def check_throttle(ctx: Ctx, username: str) -> None:
    """Refuse (429) while this user name or this client address has too many recent failures."""
    user_key, address_key = _keys(ctx, username)
    since = ctx.now - throttle.WINDOW
    for column, key, limit in (
        (AuthFailure.user_key, user_key, throttle.USER_LIMIT),
        (AuthFailure.address_key, address_key, throttle.ADDRESS_LIMIT),
    ):
        recent = ctx.session.execute(
            select(AuthFailure.at)
            .where(column == key, AuthFailure.at > since)
            .order_by(AuthFailure.at.desc())
            .limit(limit)
        ).scalars()
        wait = throttle.retry_after(list(recent), ctx.now, limit)
        if wait is not None:
            log.warning("password attempts throttled for %s seconds (too many failures by %s)", wait, column.key)
            raise TooManyAttempts("auth.throttled", retry_after=wait)


def note_failure(ctx: Ctx, username: str, purpose: str) -> None:
    user_key, address_key = _keys(ctx, username)
    session = ctx.session
    session.execute(delete(AuthFailure).where(AuthFailure.at < ctx.now - _KEEP))
    session.execute(insert(AuthFailure).values(at=ctx.now, user_key=user_key, address_key=address_key, purpose=purpose))


def clear_failures(ctx: Ctx, username: str) -> None:
    """The right password: this user name's count starts again (the address's does not)."""
    ctx.session.execute(delete(AuthFailure).where(AuthFailure.user_key == _keys(ctx, username)[0]))


def login(ctx: Ctx, username: str, password: str) -> User:
    """The active user with this password; a failure is counted, logged and audited, and says nothing more."""
    check_throttle(ctx, username)
    user = ctx.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        note_failure(ctx, username, LOGIN)
        # An unknown "username" is often a password typed in the wrong field: never log it.
        shown = user.username if user else "(unknown user)"
        log.warning("login failed for username=%r", shown)
        audit.record_failure(
            ctx, "auth.login_failed", "user", user.id if user else None, detail={"username": shown}, actor_name=shown
        )
        raise NotAuthenticated("auth.wrong_credentials", keep_changes=True)
    clear_failures(ctx, username)
    audit.record(ctx, "auth.login", "user", user.id, actor_name=user.username)
    audit.chain_inbox_at_commit(ctx)  # this commit locks the chain's head anyway
    return user


def verify_reentered_password(ctx: Ctx, user: User, password: str) -> bool:
    """The logged-in user re-entered their own password (to sign): True when right.

    Throttled like a login (429 raised while too many failures). A wrong one is counted; the caller
    audits what was refused with `audit.record_failure` and raises its own refusal with
    keep_changes=True so the count and the entry are kept.
    """
    check_throttle(ctx, user.username)
    if verify_password(user.password_hash, password):
        return True
    note_failure(ctx, user.username, REENTRY)
    log.warning("wrong password re-entered by username=%r", user.username)
    return False


def verify_witness(ctx: Ctx, witness: Witness | None, *, action: str) -> User:
    """A second, active staff member confirms `action` with their own user name and password.

    Returns the witness. Refuses with auth.witness_required without a name, auth.witness_is_actor when
    the acting user names themselves (before any password is checked), and auth.witness_refused on a
    wrong name or password, an inactive user or one who is not staff: that failure is counted and
    audited (through the inbox). 429 while the name or the address is throttled.
    """
    if witness is None or not (witness.username or "").strip():
        raise InvalidInput("auth.witness_required")
    name = witness.username.strip()
    check_throttle(ctx, name)  # a witness's password is guessed no faster than a login
    user = ctx.session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if user is not None and ctx.actor is not None and user.id == ctx.actor.id:
        raise InvalidInput("auth.witness_is_actor")
    ok = verify_password(user.password_hash if user else None, witness.password or "")
    if not ok or user is None or not user.active or user.role not in WITNESS_ROLES:
        note_failure(ctx, name, REENTRY)
        shown = user.username if user else "(unknown user)"  # never a typed name: often a password
        log.warning("witness refused for username=%r", shown)
        audit.record_failure(
            ctx, "auth.witness_failed", "user", user.id if user else None, detail={"username": shown, "action": action}
        )
        raise InvalidInput("auth.witness_refused", keep_changes=True)
    clear_failures(ctx, name)
    return user
