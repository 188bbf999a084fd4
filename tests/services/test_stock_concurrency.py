"""The ledger under real concurrency: twenty nurses dispensing at once while stock is received and
counted; the balance is the receipts minus what went out, exactly, with no lost update."""

import random
import threading
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from dispensing.db import make_session_factory, transaction
from dispensing.enums import Drug, Role
from dispensing.models import StockBalance, StockEntry, User
from dispensing.services import audit, prescriptions, sites, stock
from dispensing.services.context import Ctx
from dispensing.services.dispense import dispense
from dispensing.services.patients import register_patient
from dispensing.services.roster import build_roster
from dispensing.services.users import create_user
from tests.conftest import PASSWORD, SECRET, TZ, Factory
from tests.services.test_concurrency import real_engine  # noqa: F401 (the fixture: PostgreSQL and a SQLite file)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ).astimezone(UTC)  # Monday
NURSES = 20
PRODUCT = "methadone-oral-1"


def _ctx(session, actor=None) -> Ctx:
    return Ctx(session=session, actor=actor, now=NOW, tz=TZ, secret=SECRET)


def _setup(factory_):
    """Committed: a clinic with 100 ml received, 20 nurses, a witness and 20 patients on 30 mg methadone
    (1 mg/ml), each with one supervised dose today."""
    tag = random.randrange(10**9)
    with transaction(factory_) as s:
        admin = create_user(_ctx(s), username=f"adm{tag}", password=PASSWORD, role=Role.ADMIN)
        doctor = create_user(
            _ctx(s), username=f"doc{tag}", password=PASSWORD, role=Role.DOCTOR, can_prescribe_addictive=True
        )
        nurses = [
            create_user(_ctx(s), username=f"n{i}-{tag}", password=PASSWORD, role=Role.NURSE) for i in range(NURSES)
        ]
        create_user(_ctx(s), username=f"w{tag}", password=PASSWORD, role=Role.NURSE)
        site = sites.create_site(_ctx(s, admin), name=f"Stock race {tag}", kind="clinic")
        sites.set_windows(_ctx(s, admin), site.id, [sites.WindowSpec(d, time(8), time(12)) for d in range(7)])
        for i in range(NURSES):
            patient = register_patient(_ctx(s, nurses[0]), cpr=Factory.cpr(), name=f"Samtidig {i}")
            order = prescriptions.create_order(
                _ctx(s, doctor),
                patient.id,
                prescriptions.OrderTerms(
                    drug=Drug.METHADONE,
                    dose_mg=Decimal("30"),
                    site_id=site.id,
                    start_date=NOW.astimezone(TZ).date(),
                    end_date=NOW.astimezone(TZ).date() + timedelta(days=30),
                    indication="test",
                ),
            )
            prescriptions.sign_order(_ctx(s, doctor), order.id, PASSWORD)
        stock.receive(
            _ctx(s, nurses[0]),
            site.id,
            product=PRODUCT,
            quantity="100",
            batch="B1",
            expiry=NOW.date() + timedelta(days=300),
            supplier="Apoteket",
            witness=stock.Witness(f"w{tag}", PASSWORD),
        )
        site_id, nurse_ids = site.id, [n.id for n in nurses]
    with transaction(factory_) as s:
        slots = [
            e.slot.id for e in build_roster(_ctx(s, s.get(User, nurse_ids[0])), site_id, NOW.astimezone(TZ).date())
        ]
    return site_id, nurse_ids, slots, f"w{tag}"


def test_twenty_nurses_a_receipt_and_a_count_at_once_lose_no_update(real_engine):  # noqa: F811
    factory_ = make_session_factory(real_engine)
    site_id, nurse_ids, slot_ids, witness = _setup(factory_)
    assert len(slot_ids) == NURSES
    barrier = threading.Barrier(NURSES + 2)
    errors: list[BaseException] = []
    counted: list[stock.CountResult] = []

    def run(job):
        barrier.wait()
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    def nurse(i):
        def job():
            with transaction(factory_) as s:
                dispense(
                    _ctx(s, s.get(User, nurse_ids[i])),
                    slot_ids[i],
                    breath_promille=None,
                    supervised=True,
                    take_home_days=0,
                )

        return job

    def receipt():
        with transaction(factory_) as s:
            stock.receive(
                _ctx(s, s.get(User, nurse_ids[0])),
                site_id,
                product=PRODUCT,
                quantity="1000",
                batch="B2",
                expiry=NOW.date() + timedelta(days=300),
                supplier="Apoteket",
                witness=stock.Witness(witness, PASSWORD),
            )

    def count():
        with transaction(factory_) as s:
            counted.append(
                stock.count(
                    _ctx(s, s.get(User, nurse_ids[1])),
                    site_id,
                    product=PRODUCT,
                    counted="0",
                    witness=stock.Witness(witness, PASSWORD),
                )
            )

    jobs = [nurse(i) for i in range(NURSES)] + [receipt, count]
    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []

    with transaction(factory_) as s:
        rows = list(
            s.execute(
                select(StockEntry)
                .where(StockEntry.site_id == site_id, StockEntry.product == PRODUCT)
                .order_by(StockEntry.id)
            ).scalars()
        )
        held = s.execute(
            select(StockBalance.balance).where(StockBalance.site_id == site_id, StockBalance.product == PRODUCT)
        ).scalar_one()
        total = s.scalar(select(func.sum(StockEntry.quantity)).where(StockEntry.site_id == site_id))
        assert audit.verify_chain(_ctx(s)).ok
    # the same final balance as in series: 100 + 1000 received, 20 x 30 ml out; the count moves nothing
    assert held == total == Decimal("500")
    assert sum(1 for r in rows if r.kind == "dispense") == NURSES
    running = Decimal(0)
    for r in rows:  # every entry's balance is the one before it plus its own quantity: no lost update
        running += r.quantity
        assert r.balance_after == running
    (c,) = counted
    assert c.expected == c.entry.balance_after and c.alert  # it saw a consistent balance at its place in line
