"""Users and login."""

import logging

from sqlalchemy import select

from dispensing.enums import Role
from dispensing.errors import Conflict, InvalidInput, NotAuthenticated
from dispensing.models import Site, User
from dispensing.security import MIN_PASSWORD_LENGTH, hash_password, verify_password
from dispensing.services import audit
from dispensing.services.context import Ctx
from dispensing.services.records import get_or_404

log = logging.getLogger("dispensing.auth")


def create_user(
    ctx: Ctx,
    *,
    username: str,
    password: str,
    role: Role,
    full_name: str | None = None,
    site_id: int | None = None,
    can_prescribe_addictive: bool = False,
    authorisation_id: str | None = None,
) -> User:
    """Create a user. site_staff must be bound to a site; only doctors may carry the prescribing right."""
    username = username.strip()
    if not username:
        raise InvalidInput("Username is empty: give a login name.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Password too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    if role == Role.SITE_STAFF and site_id is None:
        raise InvalidInput("A site_staff user is bound to one site: give --site-id.")
    if can_prescribe_addictive and role != Role.DOCTOR:
        raise InvalidInput(
            "Only a doctor can carry the right to prescribe addictive medicine (autorisationsloven §41)."
        )
    if site_id is not None:
        get_or_404(ctx.session, Site, site_id)
    if ctx.session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"Username '{username}' is taken: choose another.")
    user = User(
        username=username,
        full_name=full_name or username,
        role=role,
        password_hash=hash_password(password),
        site_id=site_id,
        can_prescribe_addictive=can_prescribe_addictive,
        authorisation_id=authorisation_id,
        active=True,
        created_at=ctx.now,
    )
    ctx.session.add(user)
    ctx.session.flush()
    audit.record(
        ctx,
        "user.create",
        "user",
        user.id,
        detail={"username": username, "role": role.value, "can_prescribe_addictive": can_prescribe_addictive},
    )
    return user


def authenticate(ctx: Ctx, username: str, password: str) -> User:
    """The active user with this password; a failure is logged and audited, and says nothing more."""
    user = ctx.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        # An unknown "username" is often a password typed in the wrong field: never log it.
        shown = user.username if user else "(unknown user)"
        log.warning("login failed for username=%r", shown)
        audit.record(
            ctx, "auth.login_failed", "user", user.id if user else None, detail={"username": shown}, actor_name=shown
        )
        raise NotAuthenticated("Wrong username or password.", keep_changes=True)
    audit.record(ctx, "auth.login", "user", user.id, actor_name=user.username)
    return user


def get_user(ctx: Ctx, user_id: int) -> User | None:
    return ctx.session.get(User, user_id)
