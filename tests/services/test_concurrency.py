"""Exactly one dispense per slot when many nurses press the button at once (real connections)."""

import random
import threading
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dispensing.db import make_engine, make_session_factory, transaction
from dispensing.enums import Drug, Role
from dispensing.errors import Conflict
from dispensing.migrate import upgrade_to_head
from dispensing.models import Dispense, Slot, SlotStatus, User
from dispensing.services import audit, prescriptions, sites
from dispensing.services.context import Ctx
from dispensing.services.dispense import dispense
from dispensing.services.patients import register_patient
from dispensing.services.roster import build_roster
from dispensing.services.users import create_user
from tests.conftest import PASSWORD, SECRET, TZ, Factory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ).astimezone(UTC)  # Monday
REQUESTS = 12


def _ctx(session, actor=None) -> Ctx:
    return Ctx(session=session, actor=actor, now=NOW, tz=TZ, secret=SECRET)


def _setup(factory_):
    """Committed data: a methadone patient with pickups Monday and Thursday (2 take-home days)."""
    tag = random.randrange(10**9)
    with transaction(factory_) as s:
        admin = create_user(_ctx(s), username=f"adm{tag}", password=PASSWORD, role=Role.ADMIN)
        doctor = create_user(
            _ctx(s), username=f"doc{tag}", password=PASSWORD, role=Role.DOCTOR, can_prescribe_addictive=True
        )
        nurse = create_user(_ctx(s), username=f"nur{tag}", password=PASSWORD, role=Role.NURSE)
        site = sites.create_site(_ctx(s, admin), name=f"Concurrency {tag}", kind="clinic")
        sites.set_windows(_ctx(s, admin), site.id, [sites.WindowSpec(d, time(8), time(12)) for d in range(7)])
        patient = register_patient(_ctx(s, nurse), cpr=Factory.cpr(), name="Samtidig Sørensen")
        order = prescriptions.create_order(
            _ctx(s, doctor),
            patient.id,
            prescriptions.OrderTerms(
                drug=Drug.METHADONE,
                dose_mg=Decimal("30"),
                site_id=site.id,
                start_date=NOW.astimezone(TZ).date(),
                indication="test",
                pickup_weekdays=(0, 3),
            ),
        )
        prescriptions.sign_order(_ctx(s, doctor), order.id, PASSWORD)
    with transaction(factory_) as s:
        (entry,) = build_roster(_ctx(s, s.get(User, nurse.id)), site.id, NOW.astimezone(TZ).date())
        return nurse.id, entry.slot.id, patient.id


@pytest.fixture(params=["postgresql", "sqlite-file"])
def real_engine(request, tmp_path):
    """PostgreSQL (row locks) and a SQLite file (BEGIN IMMEDIATE): both must hold the line."""
    if request.param == "postgresql":
        yield request.getfixturevalue("committed_engine")
        return
    engine = make_engine(f"sqlite:///{tmp_path}/concurrency.db")
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def test_concurrent_dispenses_of_one_slot_give_exactly_one(real_engine):
    factory_ = make_session_factory(real_engine)
    nurse_id, slot_id, patient_id = _setup(factory_)
    barrier = threading.Barrier(REQUESTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def nurse_presses_dispense():
        barrier.wait()
        try:
            with transaction(factory_) as s:
                dispense(
                    _ctx(s, s.get(User, nurse_id)), slot_id, breath_promille=None, supervised=True, take_home_days=None
                )
            result = "dispensed"
        except Conflict:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=nurse_presses_dispense) for _ in range(REQUESTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(outcomes) == ["conflict"] * (REQUESTS - 1) + ["dispensed"]
    with transaction(factory_) as s:
        assert s.scalar(select(func.count()).select_from(Dispense).where(Dispense.slot_id == slot_id)) == 1
        statuses = dict(s.execute(select(Slot.slot_date, Slot.status).where(Slot.patient_id == patient_id)).all())
        # Monday dispensed, Tuesday and Wednesday covered once each, nothing else touched.
        assert sorted(statuses.values()) == [SlotStatus.COVERED, SlotStatus.COVERED, SlotStatus.DISPENSED]
        assert audit.verify_chain(_ctx(s)).ok
