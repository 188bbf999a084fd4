"""Small SQL helpers that differ by dialect."""

from collections.abc import Collection, Sequence
from typing import Any, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

_Ts = TypeVarTuple("_Ts")


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignoring_conflicts(
    session: Session, table: Table | FromClause, rows: Sequence[dict[str, Any]], keys: list[str]
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two nurses opening the same roster race harmlessly."""
    if not rows:
        return
    dialect = postgresql if is_postgresql(session) else sqlite
    # The rows as executemany parameters, not a multi-row VALUES: that one is compiled afresh on every
    # call (BENCHMARKS.md, "Measured reasons in the code"); this statement is compiled once and cached.
    session.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=keys), list(rows))


def among(
    session: Session, column: SQLCoreOperations[int] | SQLCoreOperations[int | None], ids: Collection[int]
) -> ColumnElement[bool]:
    """`column IN ids` for integer ids; on PostgreSQL as `column = ANY(:array)`.

    PostgreSQL parses and plans an IN list of ~400 bound parameters afresh on every roster (BENCHMARKS.md,
    "Measured reasons in the code"); one array parameter gives the same statement text whatever the count,
    so the server prepares it once. SQLite has no arrays and its IN list is cheap.
    """
    ids = sorted(set(ids))
    if is_postgresql(session):
        return column == any_(bindparam(None, ids, type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


def among_pairs(
    session: Session,
    stmt: Select[*_Ts],
    a: SQLCoreOperations[Any],
    b: SQLCoreOperations[Any],
    pairs: Collection[tuple[Any, Any]],
) -> Select[*_Ts]:
    """`stmt` limited to rows whose (a, b) is one of `pairs`, by an index on (a, b, ...).

    PostgreSQL joins the pairs as two unnested arrays, so the index is entered once per pair with
    both columns (a plain `a = ANY(...)` let the generic plan read each patient's whole history).
    SQLite gets an IN list per column, a superset of the pairs: the caller keeps only its pairs.
    """
    if len(pairs) == 1:  # one order at the window: plain equalities, the cheapest statement to build
        ((first, second),) = pairs
        return stmt.where(a == first, b == second)
    if is_postgresql(session):
        pairs = sorted(set(pairs))
        keys = (
            func.unnest(
                bindparam(None, [p for p, _ in pairs], type_=postgresql.ARRAY(Integer)),
                bindparam(None, [str(q) for _, q in pairs], type_=postgresql.ARRAY(String)),
            )
            .table_valued("a", "b")
            .render_derived(name="pairs")
        )
        return stmt.join(keys, and_(a == keys.c.a, b == keys.c.b))
    return stmt.where(a.in_({p for p, _ in pairs}), b.in_({q for _, q in pairs}))
