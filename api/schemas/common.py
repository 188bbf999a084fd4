"""What every schema module shares: response and strict request bases, decimal strings, HH:MM times.

Doses go out as decimal strings ("80", "2.5"), never floats."""

import math
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, ValidationInfo, field_validator


def _decimal_str(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


DecimalStr = Annotated[Decimal, PlainSerializer(_decimal_str, return_type=str, when_used="always")]
# isoformat, not strftime: a roster serialises ~1,000 of these (strftime was 4 % of its time over HTTP)
HHMM = Annotated[time, PlainSerializer(lambda t: t.isoformat(timespec="minutes"), return_type=str)]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- input bounds (issue 16): no request body can reach the database with a value it cannot store
# or that makes no clinical sense; each is a 422 that names the field, never a 5xx.
MAX_ID = 2**63 - 1  # BIGINT; a larger id can never exist (a path id beyond it is a 404, see api/guards.py)
MIN_DAY, MAX_DAY = date(1900, 1, 1), date(2100, 12, 31)
MAX_TEXT = 2000  # free text (indication, reasons, notes): a paragraph, not a document


def _bad_value(value: Any) -> str | None:
    """Why a raw JSON value can never be valid input (None when it may be)."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        if len(value) > MAX_TEXT:
            return f"longer than {MAX_TEXT} characters"
    elif isinstance(value, bool):
        return None
    elif isinstance(value, float) and not math.isfinite(value):
        return "not a finite number"
    elif isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
        return "number out of range"
    elif isinstance(value, dict):
        for k, v in value.items():
            if problem := _bad_value(k) or _bad_value(v):
                return problem
    elif isinstance(value, list):
        for v in value:
            if problem := _bad_value(v):
                return problem
    return None


@cache
def _bool_fields(cls: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        name for name, f in cls.model_fields.items() if f.annotation is bool or f.annotation == (bool | None)
    )


def _days(value: Any):
    if isinstance(value, datetime):
        yield value.date()
    elif isinstance(value, date):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _days(v)


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, not silently ignored; and the bounds above hold
    for every field (NUL bytes, text length, 64-bit integers, real booleans, dates in 1900-2100)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def storable(cls, value: Any, info: ValidationInfo) -> Any:
        if problem := _bad_value(value):
            raise ValueError(problem)
        if info.field_name in _bool_fields(cls) and value is not None and not isinstance(value, bool):
            raise ValueError("must be true or false")  # "yes", 1 or "false" are not booleans
        return value

    @field_validator("*", mode="after")
    @classmethod
    def days_in_range(cls, value: Any) -> Any:
        for day in _days(value):
            _day_in_range(day)
        return value


def _day_in_range(value: date) -> date:
    if not MIN_DAY <= value <= MAX_DAY:
        raise ValueError(f"{value.isoformat()} is outside {MIN_DAY.year}-{MAX_DAY.year}")
    return value


# A date in a query string (?date=), bounded like the dates in bodies.
Day = Annotated[date, AfterValidator(_day_in_range)]
