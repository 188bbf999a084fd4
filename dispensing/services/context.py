"""What every use case needs: the session, who acts, when, and the clinic's zone and secret."""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispensing.enums import Role
from dispensing.errors import Forbidden, NotAuthenticated
from dispensing.models import ClinicPolicy, User
from dispensing.policy import Policy
from dispensing.rules.schedule import local_today


def load_policy(session: Session) -> Policy:
    """DOMAIN.md's defaults with the doctor's stored overrides (changed in services/policy.py)."""
    row = session.execute(select(ClinicPolicy).where(ClinicPolicy.id == 1)).scalar_one_or_none()
    if row is None:
        return Policy()
    try:
        return Policy(**row.values)
    except ValidationError as exc:
        # A value stored before the clinical ceilings existed: its default holds until the doctor
        # sets it again, rather than every request failing.
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        logging.getLogger("dispensing.policy").warning(
            "stored policy values out of bounds, defaults used: %s", ", ".join(sorted(bad))
        )
        return Policy(**{k: v for k, v in row.values.items() if k not in bad})


@dataclass
class Ctx:
    session: Session
    actor: User | None
    now: datetime  # aware, UTC
    tz: ZoneInfo
    secret: bytes
    label_key: Ed25519PrivateKey | None = None  # signs pickup-label QR tokens
    client: str | None = None  # the client's address (password throttling counts failures per address)

    @property
    def today(self) -> date:
        """The clinic's calendar date now (slots live in the clinic's zone)."""
        return local_today(self.now, self.tz)

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.session)

    def require_actor(self) -> User:
        """The acting user, whatever their role; refused (401) when nobody is logged in. For the steps
        after a use case has checked the role, and for a write that names who did it."""
        if self.actor is None:
            raise NotAuthenticated("auth.not_authenticated")
        return self.actor

    def require(self, *roles: Role) -> User:
        """The acting user, refused unless they hold one of `roles`."""
        if self.actor is None or self.actor.role not in roles:
            have = self.actor.role if self.actor else "-"
            raise Forbidden("auth.role_required", allowed=list(roles), have=have)
        return self.actor
