"""`dispensing.db.transaction`: the one owner of commit and rollback (requests, web UI, CLI, bench)."""

import pytest
from sqlalchemy import text

from dispensing.db import make_engine, make_session_factory, transaction
from dispensing.errors import Conflict, NotAuthenticated


@pytest.fixture
def factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/tx.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (x INTEGER)"))
    yield make_session_factory(engine)
    engine.dispose()


def _write(session, x: int) -> None:
    session.execute(text("INSERT INTO notes (x) VALUES (:x)"), {"x": x})


def _kept(factory) -> list[int]:
    with transaction(factory) as s:
        return [r[0] for r in s.execute(text("SELECT x FROM notes ORDER BY x"))]


def test_a_block_that_succeeds_is_committed(factory):
    with transaction(factory) as s:
        _write(s, 1)
    assert _kept(factory) == [1]


def test_a_refusal_rolls_back(factory):
    with pytest.raises(Conflict), transaction(factory) as s:
        _write(s, 1)
        raise Conflict("state.conflict")
    assert _kept(factory) == []


def test_a_refusal_that_keeps_its_changes_is_committed(factory):
    # e.g. the audit entry of a failed login must survive the refusal
    with pytest.raises(NotAuthenticated), transaction(factory) as s:
        _write(s, 2)
        raise NotAuthenticated("auth.wrong_password", keep_changes=True)
    assert _kept(factory) == [2]


def test_any_other_error_rolls_back(factory):
    with pytest.raises(ZeroDivisionError), transaction(factory) as s:
        _write(s, 3)
        _ = 1 / 0
    assert _kept(factory) == []
