"""Re-open, undo a no-show, dispense and prepare the same slot at once (real connections, PostgreSQL and a
SQLite file): one outcome, never two doses in effect for a slot (DOMAIN rule 13, API.md)."""

import random
import threading
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dispensing.db import make_engine, make_session_factory, transaction
from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import DispensingError
from dispensing.migrate import upgrade_to_head
from dispensing.models import IN_EFFECT, Dispense, DispenseStatus, Slot, SlotStatus, User
from dispensing.services import audit, corrections, custody, prescriptions, sites
from dispensing.services.context import Ctx
from dispensing.services.dispense import dispense, record_no_show
from dispensing.services.patients import register_patient
from dispensing.services.roster import build_roster
from dispensing.services.stock import Witness
from dispensing.services.users import create_user
from tests.conftest import PASSWORD, SECRET, TZ, Factory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ).astimezone(UTC)  # Monday, inside the 08:00-12:00 window
TODAY = NOW.astimezone(TZ).date()
EACH = 4  # requests of each kind at once


def _ctx(session, actor=None) -> Ctx:
    return Ctx(session=session, actor=actor, now=NOW, tz=TZ, secret=SECRET)


@pytest.fixture(params=["postgresql", "sqlite-file"])
def real_engine(request, tmp_path):
    if request.param == "postgresql":
        yield request.getfixturevalue("committed_engine")
        return
    engine = make_engine(f"sqlite:///{tmp_path}/corrections.db")
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def _setup(factory_, kind: SiteKind = SiteKind.CLINIC) -> dict:
    """Committed: staff, a site open 08:00-12:00 every day, a methadone patient due today; the slot's id."""
    tag = random.randrange(10**9)
    with transaction(factory_) as s:
        admin = create_user(_ctx(s), username=f"cadm{tag}", password=PASSWORD, role=Role.ADMIN)
        doctor = create_user(
            _ctx(s), username=f"cdoc{tag}", password=PASSWORD, role=Role.DOCTOR, can_prescribe_addictive=True
        )
        nurse = create_user(_ctx(s), username=f"cnur{tag}", password=PASSWORD, role=Role.NURSE)
        witness = create_user(_ctx(s), username=f"cwit{tag}", password=PASSWORD, role=Role.NURSE)
        site = sites.create_site(_ctx(s, admin), name=f"Corrections {tag}", kind=kind)
        sites.set_windows(_ctx(s, admin), site.id, [sites.WindowSpec(d, time(8), time(12)) for d in range(7)])
        patient = register_patient(_ctx(s, nurse), cpr=Factory.cpr(), name="Samtidig Rettesen")
        order = prescriptions.create_order(
            _ctx(s, doctor),
            patient.id,
            prescriptions.OrderTerms(
                drug=Drug.METHADONE, dose_mg=Decimal("30"), site_id=site.id, start_date=TODAY, indication="test"
            ),
        )
        prescriptions.sign_order(_ctx(s, doctor), order.id, PASSWORD)
        ids = {"doctor": doctor.id, "nurse": nurse.id, "witness": witness.username, "site": site.id}
    with transaction(factory_) as s:
        (entry,) = build_roster(_ctx(s, s.get(User, ids["nurse"])), ids["site"], TODAY)
        ids["slot"] = entry.slot.id
    return ids


def _as(factory_, user_id: int, fn, *args, **kw):
    """One use case in its own committed transaction; the id of what it returns."""
    with transaction(factory_) as s:
        result = fn(_ctx(s, s.get(User, user_id)), *args, **kw)
        return getattr(result, "id", None)


def _race(factory_, actions: list[tuple[str, callable]]) -> list[tuple[str, str]]:
    """Run every action at the same moment, each in its own transaction: (name, "ok" | error code)."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(name, action):
        barrier.wait()
        try:
            action()
            result = "ok"
        except DispensingError as exc:
            result = exc.code
        with lock:
            outcomes.append((name, result))

    threads = [threading.Thread(target=run, args=a) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == len(actions), "a request hung"
    return outcomes


def _in_effect(s, slot_id: int) -> int:
    return s.scalar(
        select(func.count()).select_from(Dispense).where(Dispense.slot_id == slot_id, Dispense.status.in_(IN_EFFECT))
    )


def _nurse_dispenses(factory_, ids):
    return lambda: _as(
        factory_,
        ids["nurse"],
        dispense,
        ids["slot"],
        breath_promille=Decimal("0.00"),
        supervised=True,
        take_home_days=0,
    )


@pytest.mark.parametrize("how", ["withheld", "voided"])
def test_reopen_undo_and_dispense_at_once_give_one_outcome(real_engine, how):
    factory_ = make_session_factory(real_engine)
    ids = _setup(factory_)
    slot_id = ids["slot"]
    if how == "withheld":
        _as(
            factory_,
            ids["nurse"],
            dispense,
            slot_id,
            breath_promille=Decimal("0.90"),
            supervised=True,
            take_home_days=0,
        )
    else:
        _nurse_dispenses(factory_, ids)()
        with transaction(factory_) as s:
            first = s.scalar(select(Dispense.id).where(Dispense.slot_id == slot_id))
        _as(
            factory_,
            ids["nurse"],
            custody.void_dispense,
            first,
            "Kastede op",
            witness=Witness(ids["witness"], PASSWORD),
        )

    actions = (
        [("reopen", lambda: _as(factory_, ids["doctor"], corrections.reopen_slot, slot_id, "ny vurdering"))] * EACH
        + [("undo", lambda: _as(factory_, ids["nurse"], corrections.undo_no_show, slot_id, "kom"))] * EACH
        + [("dispense", _nurse_dispenses(factory_, ids))] * EACH
    )
    outcomes = _race(factory_, actions)
    ok = [name for name, result in outcomes if result == "ok"]
    assert ok.count("reopen") == 1  # from withheld or voided only once; then it is due or dispensed
    assert ok.count("undo") == 0  # it was never a no-show
    assert ok.count("dispense") <= 1
    with transaction(factory_) as s:
        slot = s.get(Slot, slot_id)
        assert _in_effect(s, slot_id) == ok.count("dispense")
        assert slot.status == (SlotStatus.DISPENSED if "dispense" in ok else SlotStatus.DUE)
        assert audit.verify_chain(_ctx(s)).ok


def test_undo_a_no_show_and_dispense_at_once_give_one_dose(real_engine):
    factory_ = make_session_factory(real_engine)
    ids = _setup(factory_)
    _as(factory_, ids["nurse"], record_no_show, ids["slot"], "meldte afbud")
    actions = [("undo", lambda: _as(factory_, ids["nurse"], corrections.undo_no_show, ids["slot"], "kom"))] * EACH + [
        ("dispense", _nurse_dispenses(factory_, ids))
    ] * EACH
    ok = [name for name, result in _race(factory_, actions) if result == "ok"]
    assert ok.count("undo") == 1 and ok.count("dispense") <= 1
    with transaction(factory_) as s:
        assert _in_effect(s, ids["slot"]) == ok.count("dispense")


def test_preparing_a_voided_pickup_dose_again_at_once_gives_exactly_one(real_engine):
    factory_ = make_session_factory(real_engine)
    ids = _setup(factory_, SiteKind.PHARMACY)
    first = _as(factory_, ids["nurse"], custody.prepare_for_site, ids["slot"], take_home_days=0)
    _as(factory_, ids["nurse"], custody.void_dispense, first, "Flaske knust")
    actions = [
        ("prepare", lambda: _as(factory_, ids["nurse"], custody.prepare_for_site, ids["slot"], take_home_days=0))
    ]
    outcomes = _race(factory_, actions * (2 * EACH))
    assert sorted(result for _, result in outcomes).count("ok") == 1
    with transaction(factory_) as s:
        statuses = sorted(s.scalars(select(Dispense.status).where(Dispense.slot_id == ids["slot"])))
        assert statuses == sorted([DispenseStatus.VOID, DispenseStatus.PREPARED])


def test_the_database_refuses_a_second_dose_in_effect_for_a_slot(factory, session):
    """Behind the row lock: the partial unique index itself (a voided dose is history, not in effect)."""
    site = factory.site()
    order = factory.order(site=site)
    (entry,) = build_roster(factory.ctx(factory.nurse), site.id, factory.clock.today)
    d = dispense(factory.ctx(factory.nurse), entry.slot.id, breath_promille=None, supervised=True, take_home_days=0)
    item = d.dispense

    def copy(status: DispenseStatus) -> Dispense:
        return Dispense(
            **{c.key: getattr(item, c.key) for c in Dispense.__table__.columns if c.key not in ("id", "status")},
            status=status,
        )

    with session.begin_nested():
        session.add(copy(DispenseStatus.VOID))  # history may repeat
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(copy(DispenseStatus.PREPARED))
        session.flush()
    assert order.id == item.prescription_id
