"""The declarative base, naming convention and column helpers every table module shares."""

from enum import StrEnum
from functools import lru_cache

from sqlalchemy import (
    Enum,
    MetaData,
    func,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def str_enum(enum_cls: type[StrEnum], length: int = 32) -> Enum:
    """Store a StrEnum by its value as a plain string column (same on SQLite and PostgreSQL)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def open_end(*days):
    """The first of these date columns that is set, else 9999-12-31.

    Never earlier than the last day a row is in force, so an index on (key, open_end(...)) lets
    "in force on day D" read only the rows whose bound is D or later instead of the key's whole history
    (every order version or sanction ever written). The far date is a literal, not a bound parameter,
    so that a query's expression is the index's on both databases. SQLite cannot reflect such indexes:
    a later batch migration that rebuilds these tables must create them again (tests/services/
    test_in_force.py fails without them).
    """
    return func.coalesce(*days, literal_column("'9999-12-31'"))


def weekdays_to_str(days) -> str:
    """Canonical storage of a weekday set: sorted digits, 0 = Monday ("0123456")."""
    return "".join(str(d) for d in sorted(set(days)))


@lru_cache(maxsize=256)  # a roster parses the same few strings for every order, several times each
def weekdays_from_str(text: str) -> frozenset[int]:
    return frozenset(int(c) for c in text)
