"""Engine and session factory; SQLite and PostgreSQL behave the same from here up."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

POOL_SIZE, MAX_OVERFLOW = 20, 10  # the defaults of DISPENSING_DB_POOL_SIZE and DISPENSING_DB_MAX_OVERFLOW


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
) -> Engine:
    """An engine; for SQLite with real transactions (BEGIN IMMEDIATE) and foreign keys on.

    hide_parameters: an error's text (and echo) never shows a statement's values, which hold CPR
    numbers, names and password hashes; pool_pre_ping: a connection the server dropped is replaced
    before a request gets it, so one lost connection fails one request, not the next ones too.
    PostgreSQL keeps `pool_size` connections and opens up to `max_overflow` more in a burst: a connection
    beyond the pool is closed when handed back, and opening one starts a server process (with 10 kept,
    20 nurses back to back opened and closed one per request: BENCHMARKS.md, "Measured reasons").
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, hide_parameters=True, connect_args={"timeout": 30, "check_same_thread": False}
        )
        _make_sqlite_transactional(engine)
        return engine
    return create_engine(
        url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
    )


def _make_sqlite_transactional(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over
    # (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
    # BEGIN IMMEDIATE takes the write lock up front, so two dispenses of one slot queue
    # instead of failing late with "database is locked".
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The one owner of commit and rollback (API and web requests, the CLI, bench, tests).

    Commits when the block succeeds. A refusal rolls back, unless it says its changes must be kept
    (`keep_changes`, e.g. the audit entry of a failed login); any other error rolls back.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException as exc:
        if getattr(exc, "keep_changes", False):
            session.commit()
        else:
            session.rollback()
        raise
    finally:
        session.close()


# --- writes taken just before COMMIT -----------------------------------------------------------------

_LATE = "late_writes"


def write_late(session: Session, work: Callable[[], None]) -> None:
    """Run `work` just before this transaction's COMMIT (before the audit chain is extended).

    For a write that locks a row every request of its kind shares (a clinic's stock balance): done
    in the middle of a use case, the lock was held across the rest of the request and the framework's
    hand-back, a queue behind every dispense at the clinic (BENCHMARKS.md, "Measured reasons in the
    code"); here it is held for a few statements. A reader of those rows calls `run_late_writes` first.
    """
    session.info.setdefault(_LATE, []).append(work)


def run_late_writes(session: Session) -> None:
    """Run the queued late writes now, in order: for a read (or another write) of the same rows in
    the same transaction, which must see them."""
    for work in session.info.pop(_LATE, ()):  # taken whole: a write that runs this again finds none
        work()


@event.listens_for(Session, "before_commit", insert=True)  # first: the audit entries they add are chained
def _run_late_writes(session: Session) -> None:
    while session.info.get(_LATE):
        run_late_writes(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_late_writes(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_LATE, None)
