"""What every use case needs: the session, who acts, when, and the clinic's zone and secret."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from dispensing.enums import Role
from dispensing.errors import Forbidden
from dispensing.models import User
from dispensing.policy import Policy
from dispensing.rules.schedule import local_today


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
        from dispensing.services.policy import load_policy

        return load_policy(self.session)

    def require(self, *roles: Role) -> User:
        """The acting user, refused unless they hold one of `roles`."""
        if self.actor is None or self.actor.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            have = self.actor.role.value if self.actor else "nobody"
            raise Forbidden(f"This needs the role {allowed}; you are logged in as {have}.")
        return self.actor
