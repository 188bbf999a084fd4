"""The one way to fetch a record by id or say that it does not exist (`record.not_found`, 404)."""

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispensing.errors import NotFound

T = TypeVar("T")


def not_found(record: str, id: Any) -> NotFound:
    """The refusal for a missing record; `record` is the word the user knows it by ("Slot", "Order").
    The id goes as text: it is a name, not a number to write as "987.654"."""
    return NotFound("record.not_found", record=record, id=str(id))


def get_or_404(session: Session, model: type[T], id: int, *, what: str | None = None, lock: bool = False) -> T:
    """The row of `model` with this id, or NotFound. `lock`: locked until commit (SELECT ... FOR UPDATE),
    read fresh from the database, so a second request for it waits and then sees the outcome."""
    if lock:
        stmt = select(model).where(model.id == id).with_for_update()  # type: ignore[attr-defined]
        found = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    else:
        found = session.get(model, id)
    if found is None:
        raise not_found(what or model.__name__, id)
    return found


def referenced(session: Session, model: type[T], id: int) -> T:
    """The row of `model` that a foreign key just read points to. The constraint guarantees that it
    exists, so its absence is a bug (500), not a record the user asked for (404)."""
    found = session.get(model, id)
    assert found is not None, f"{model.__name__} {id} is referenced by a foreign key but does not exist"
    return found
