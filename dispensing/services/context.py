"""What every use case needs: the session, who acts, when, and the clinic's zone and secret."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispensing.enums import Role
from dispensing.errors import Forbidden
from dispensing.models import ClinicPolicy, User
from dispensing.policy import Policy
from dispensing.rules.schedule import local_today


def load_policy(session: Session) -> Policy:
    """DOMAIN.md's defaults with the doctor's stored overrides (changed in services/policy.py)."""
    row = session.execute(select(ClinicPolicy).where(ClinicPolicy.id == 1)).scalar_one_or_none()
    return Policy(**row.values) if row else Policy()


@dataclass
class Ctx:
    session: Session
    actor: User | None
    now: datetime  # aware, UTC
    tz: ZoneInfo
    secret: bytes
    label_key: Ed25519PrivateKey | None = None  # signs pickup-label QR tokens

    @property
    def today(self) -> date:
        """The clinic's calendar date now (slots live in the clinic's zone)."""
        return local_today(self.now, self.tz)

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.session)

    def require(self, *roles: Role) -> User:
        """The acting user, refused unless they hold one of `roles`."""
        if self.actor is None or self.actor.role not in roles:
            have = self.actor.role if self.actor else "-"
            raise Forbidden("auth.role_required", allowed=list(roles), have=have)
        return self.actor
