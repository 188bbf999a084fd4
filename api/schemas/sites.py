"""Sites and their dispensing windows."""

from datetime import time

from pydantic import Field

from api.schemas.common import HHMM, Model, Strict
from dispensing.enums import Drug, SiteKind


class WindowIn(Strict):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start: time
    end: time
    drugs: list[Drug] | None = None


class WindowRead(Model):
    weekday: int
    start: HHMM
    end: HHMM
    drugs: list[str] | None


class SiteCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: SiteKind
    address: str = ""


class SiteRead(Model):
    id: int
    name: str
    kind: SiteKind
    address: str
    danish_public_holidays: bool = True  # closed on Danish public holidays (rule 17)
    windows: list[WindowRead] = []
