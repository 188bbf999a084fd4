"""Small SQL helpers that differ by dialect."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_conflicts(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two nurses opening the same roster race harmlessly."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # The rows as executemany parameters, not a multi-row VALUES: that one is compiled afresh on every
    # call (a roster's 400 slots took ~120 ms to compile); this statement is compiled once and cached.
    session.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=keys), list(rows))
