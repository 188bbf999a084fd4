"""What every schema module shares: response and strict request bases, decimal strings, HH:MM times.

Doses go out as decimal strings ("80", "2.5"), never floats."""

from datetime import time
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer


def _decimal_str(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


DecimalStr = Annotated[Decimal, PlainSerializer(_decimal_str, return_type=str, when_used="always")]
HHMM = Annotated[time, PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")
