"""Users and login."""

import logging

from sqlalchemy import select

from dispensing.enums import Role
from dispensing.errors import Conflict, InvalidInput, NotFound
from dispensing.models import Site, User
from dispensing.security import MIN_PASSWORD_LENGTH, hash_password
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
        raise InvalidInput("user.username_required")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("user.password_too_short", min_length=MIN_PASSWORD_LENGTH)
    if role == Role.SITE_STAFF and site_id is None:
        raise InvalidInput("user.site_staff_needs_site")
    if can_prescribe_addictive and role != Role.DOCTOR:
        raise InvalidInput("user.addictive_right_doctor_only")
    if site_id is not None:
        get_or_404(ctx.session, Site, site_id)
    if ctx.session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict("user.username_taken", username=username)
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
    """The active user with this password (throttled; a failure is counted, logged and audited)."""
    from dispensing.services import passwords

    return passwords.login(ctx, username, password)


def list_users(ctx: Ctx) -> list[User]:
    """Every account, by username (the operator's CLI)."""
    return list(ctx.session.execute(select(User).order_by(User.username)).scalars())


def _by_username(ctx: Ctx, username: str) -> User:
    user = ctx.session.execute(select(User).where(User.username == username.strip())).scalar_one_or_none()
    if user is None:
        raise NotFound("user.not_found", username=username)
    return user


def disable_user(ctx: Ctx, username: str) -> User:
    """The account can no longer log in (its history stays: a user is never deleted)."""
    user = _by_username(ctx, username)
    user.active = False
    audit.record(ctx, "user.disable", "user", user.id, detail={"username": user.username})
    return user


def reset_password(ctx: Ctx, username: str, password: str) -> User:
    """A new password, e.g. after a forgotten one; the old one stops working at once."""
    user = _by_username(ctx, username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("user.password_too_short", min_length=MIN_PASSWORD_LENGTH)
    user.password_hash = hash_password(password)
    audit.record(ctx, "user.reset_password", "user", user.id, detail={"username": user.username})
    return user


def get_user(ctx: Ctx, user_id: int) -> User | None:
    return ctx.session.get(User, user_id)
