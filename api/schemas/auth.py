"""Logins and users."""

from api.schemas.common import Model
from dispensing.enums import Role


class TokenRead(Model):
    access_token: str
    token_type: str = "bearer"


class UserRead(Model):
    id: int
    username: str
    full_name: str
    role: Role
    site_id: int | None
    can_prescribe_addictive: bool
