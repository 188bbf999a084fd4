"""Test set-up: one database built by `alembic upgrade head`, each test in a rolled-back transaction.

SQLite by default; DISPENSING_TEST_DATABASE_URL=postgresql+psycopg://... runs the same suite on
PostgreSQL. Tests about real concurrency use `committed_engine` (their data is committed).
"""

import itertools
import os
import random
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Session, sessionmaker

from dispensing import security
from dispensing.config import Settings
from dispensing.db import make_engine
from dispensing.enums import Drug, Role, SiteKind
from dispensing.migrate import upgrade_to_head
from dispensing.models import User
from dispensing.services import audit_seal, prescriptions, sites
from dispensing.services.context import Ctx
from dispensing.services.patients import register_patient
from dispensing.services.users import create_user

TZ = ZoneInfo("Europe/Copenhagen")
SECRET = b"test-secret-" + b"x" * 40
AUDIT_KEY = "test-audit-key-" + "y" * 40
PASSWORD = "correct-horse-battery"
LABEL_KEY = Ed25519PrivateKey.generate()
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() == "true"

# SQLite stores NUMERIC as REAL; SQLAlchemy converts back with the column's scale, so doses
# stay exact. The warning about it is expected, not a problem.
warnings.filterwarnings("ignore", category=SAWarning, message=".*Decimal objects natively.*")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Argon2id still, with a small cost so hundreds of test users are quick."""
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._DUMMY_HASH = security._hasher.hash("dummy")
    yield


@pytest.fixture(autouse=True)
def _audit_seal():
    """Every test chains with one audit key and, unless it asks for one, no checkpoint file (its
    transaction is rolled back: a checkpoint would name entries that no longer exist)."""
    audit_seal.configure(AUDIT_KEY.encode(), None)
    yield


def _reset(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade_to_head(engine)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("DISPENSING_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db')}/test.db"


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    _reset(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection) -> sessionmaker[Session]:
    # Every commit inside the test only releases a savepoint; the outer transaction is rolled back.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


class Clock:
    """A settable clock; tests say what time it is in the clinic."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=TZ).astimezone(UTC)  # a Monday morning

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date, at: time = time(9, 0)) -> None:
        self.now = datetime.combine(day, at, tzinfo=TZ).astimezone(UTC)

    @property
    def today(self) -> date:
        return self.now.astimezone(TZ).date()

    def advance(self, days: int = 0, **kw) -> None:
        self.now += timedelta(days=days, **kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        database_url="sqlite://",
        secret_key=SECRET.decode(),
        audit_key=AUDIT_KEY,
        audit_checkpoint=False,
        audit_sweep_seconds=0,  # no timer thread on the test's shared connection: sweeps are explicit
        data_dir=tmp_path,
    )


class Factory:
    """Test data made through the real use cases (so every rule applies)."""

    _cpr_seq = itertools.count(1)

    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self._admin: User | None = None
        self._doctor: User | None = None
        self._nurse: User | None = None
        self._names = itertools.count(1)

    def ctx(self, actor: User | None = None, now: datetime | None = None) -> Ctx:
        return Ctx(
            session=self.session, actor=actor, now=now or self.clock(), tz=TZ, secret=SECRET, label_key=LABEL_KEY
        )

    def user(
        self,
        role: Role = Role.NURSE,
        *,
        can_prescribe: bool = False,
        site_id: int | None = None,
        username: str | None = None,
    ) -> User:
        name = username or f"{role.value}-{next(self._names)}-{random.randrange(10**9)}"
        return self._done(
            create_user(
                self.ctx(),
                username=name,
                password=PASSWORD,
                role=role,
                full_name=f"Test {name}",
                can_prescribe_addictive=can_prescribe,
                site_id=site_id,
            )
        )

    def _done(self, result):
        """Commit as a request does after its use case (the use case's audit entries join the chain)."""
        self.session.commit()
        return result

    @property
    def admin(self) -> User:
        self._admin = self._admin or self.user(Role.ADMIN)
        return self._admin

    @property
    def doctor(self) -> User:
        self._doctor = self._doctor or self.user(Role.DOCTOR, can_prescribe=True)
        return self._doctor

    @property
    def nurse(self) -> User:
        self._nurse = self._nurse or self.user(Role.NURSE)
        return self._nurse

    def site(self, kind: SiteKind = SiteKind.CLINIC, windows: list[sites.WindowSpec] | None = None):
        site = sites.create_site(self.ctx(self.admin), name=f"Site {random.randrange(10**12)}", kind=kind)
        if windows is None:
            windows = [sites.WindowSpec(d, time(8, 0), time(10, 0)) for d in range(7)]
        return self._done(sites.set_windows(self.ctx(self.admin), site.id, windows))

    @staticmethod
    def cpr() -> str:
        """A valid, unique CPR number (born 1950-1999, so digit 7 of 0-3 means 19YY)."""
        n = next(Factory._cpr_seq) + random.randrange(10**6) * 1000
        day = date(1950, 1, 1) + timedelta(days=n % 18000)
        serial = f"{(n // 18000) % 4}{n % 1000:03d}"
        return f"{day:%d%m%y}{serial}"

    def patient(self, **kw):
        kw.setdefault("name", f"Patient Æblegård {next(self._names)}")
        for _ in range(20):
            try:
                return self._done(register_patient(self.ctx(self.nurse), cpr=kw.pop("cpr", None) or self.cpr(), **kw))
            except Exception as exc:  # a random CPR collided: draw another
                if "already registered" not in str(exc):
                    raise
        raise RuntimeError("could not draw a free CPR")

    def order(
        self,
        patient=None,
        site=None,
        *,
        drug: Drug = Drug.METHADONE,
        dose: str = "30",
        sign: bool = True,
        start: date | None = None,
        override: str | None = None,
        window_override: str | None = None,
        **terms,
    ):
        patient = patient or self.patient()
        site = site or self.site()
        t = prescriptions.OrderTerms(
            drug=drug,
            dose_mg=Decimal(dose),
            site_id=site.id,
            start_date=start or self.clock.today,
            indication="test indication",
            override_reason=override,
            **terms,
        )
        doctor_ctx = self.ctx(self.doctor)
        order = prescriptions.create_order(doctor_ctx, patient.id, t)
        if sign:
            order = prescriptions.sign_order(doctor_ctx, order.id, PASSWORD, window_override_reason=window_override)
        return self._done(order)


@pytest.fixture
def factory(session, clock) -> Factory:
    return Factory(session, clock)


@pytest.fixture
def app(settings, engine, session_factory, clock):
    from api.main import create_app

    app = create_app(settings, engine=engine, clock=clock)
    app.state.session_factory = session_factory
    app.state.label_key = LABEL_KEY
    return app


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def auth(user: User, clock: Clock | None = None) -> dict[str, str]:
    """Bearer header for a user (a real token; /auth/token itself is tested separately)."""
    now = clock() if clock else datetime.now(UTC)
    return {"Authorization": f"Bearer {security.create_access_token(SECRET, user.id, now, 60)}"}


@pytest.fixture(scope="session")
def committed_engine(engine, tmp_path_factory) -> Iterator[Engine]:
    """A PostgreSQL database whose transactions really commit, for tests of concurrent requests.

    In CI a missing server is a failure, never a skip.
    """
    if engine.dialect.name == "postgresql":
        yield engine
        return
    pg = make_engine(os.environ.get("DISPENSING_TEST_PG_URL", PG_DEFAULT))
    try:
        with pg.connect():
            pass
    except Exception as exc:
        if IN_CI:
            raise RuntimeError(f"PostgreSQL is required in CI and is not reachable: {exc}") from exc
        pytest.skip(f"PostgreSQL not reachable for the concurrency test: {exc}")
    _reset(pg)
    yield pg
    pg.dispose()
