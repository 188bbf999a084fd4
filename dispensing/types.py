"""Column types that keep SQLite and PostgreSQL identical: UTC-aware timestamps, exact decimals."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Numeric
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware UTC timestamp")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def Milligrams() -> Numeric:
    """Dose column: exact Decimal with three decimals (0.4 mg buprenorphine, 2.5 mg)."""
    return Numeric(10, 3, asdecimal=True)


def Promille() -> Numeric:
    """Breath alcohol in per mille with two decimals."""
    return Numeric(4, 2, asdecimal=True)
