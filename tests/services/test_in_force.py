"""Orders and sanctions in force on a day: exact at every edge, and read through the open-end indexes.

The indexes (models.base.open_end) bound the rows a roster reads to those that may still be in force,
so the roster's cost does not grow with the years of order versions and sanctions behind it.
"""

import re
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from dispensing.enums import SanctionStep, SiteKind
from dispensing.services import prescriptions, sanctions, sites
from dispensing.services.prescriptions import governing_orders
from dispensing.services.sanctions import patients_sent_to
from tests.conftest import PASSWORD

MON = date(2026, 3, 2)  # the clock's today


def in_force(factory, day, site):
    ctx = factory.ctx(factory.nurse)
    orders = governing_orders(ctx, day, site_id=site.id)
    by_site = {o.id for o in orders}
    patients = [o.patient_id for o in orders]
    by_patient = {o.id for o in governing_orders(ctx, day, patient_ids=patients)} if patients else set()
    assert by_site == by_patient  # both indexes give the same answer
    return by_site


def test_a_revision_takes_over_on_its_effective_day_and_not_before(factory):
    site = factory.site()
    v1 = factory.order(site=site)
    doctor = factory.ctx(factory.doctor)
    draft = prescriptions.revise_order(doctor, v1.id, {"dose_mg": Decimal("35")}, MON + timedelta(days=2), "Abstinens")
    v2 = prescriptions.sign_order(doctor, draft.id, PASSWORD)
    factory.session.commit()
    assert in_force(factory, MON + timedelta(days=1), site) == {v1.id}  # the day before: the old version
    assert in_force(factory, MON + timedelta(days=2), site) == {v2.id}
    assert in_force(factory, MON + timedelta(days=40), site) == {v2.id}


def test_a_discontinued_order_governs_through_its_last_day_only(factory):
    site = factory.site()
    order = factory.order(site=site)
    prescriptions.discontinue_order(factory.ctx(factory.doctor), order.id, MON + timedelta(days=3), "Stop")
    factory.session.commit()
    assert in_force(factory, MON + timedelta(days=3), site) == {order.id}
    assert in_force(factory, MON + timedelta(days=4), site) == set()


def test_an_order_with_an_end_date_governs_through_it_and_a_later_one_from_its_start(factory):
    site = factory.site()
    patient = factory.patient()
    first = factory.order(patient, site, end_date=MON + timedelta(days=6))
    later = factory.order(patient, site, start=MON + timedelta(days=7))
    assert in_force(factory, MON, site) == {first.id}
    assert in_force(factory, MON + timedelta(days=6), site) == {first.id}
    assert in_force(factory, MON + timedelta(days=7), site) == {later.id}


def test_a_police_pickup_sends_the_patient_to_the_station_through_its_last_day(factory):
    police = factory.site(SiteKind.POLICE, windows=[sites.WindowSpec(d, time(10), time(11)) for d in range(7)])
    order = factory.order()
    ctx = factory.ctx(factory.doctor)
    s = sanctions.decide_sanction(
        ctx,
        order.patient_id,
        step=SanctionStep.POLICE_PICKUP,
        starts_on=MON,
        review_on=MON + timedelta(days=28),
        reason="Sidemisbrug",
        site_id=police.id,
    )
    factory.session.commit()
    nurse = factory.ctx(factory.nurse)
    assert patients_sent_to(nurse, police.id, MON + timedelta(days=100)) == {order.patient_id}  # open-ended
    sanctions.lift_sanction(ctx, s.id, ends_on=MON + timedelta(days=5), reason="Stabil igen")
    factory.session.commit()
    assert patients_sent_to(nurse, police.id, MON + timedelta(days=5)) == {order.patient_id}
    assert patients_sent_to(nurse, police.id, MON + timedelta(days=6)) == set()


def _reads_through(session, index: str, run) -> bool:
    """True when the one SELECT that `run` sends enters `index` with its open-end bound, not only its key."""
    sent = []
    conn = session.connection()

    def grab(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(conn, "before_cursor_execute", grab)
    [(statement, parameters)] = [s for s in sent if s[0].lstrip().upper().startswith("SELECT")]
    if conn.dialect.name == "sqlite":  # e.g. SEARCH prescriptions USING INDEX ix (site_id=? AND status=? AND <expr>>?)
        plan = [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
        return any(re.search(rf"USING INDEX {index} \(.*<expr>>\?", line) for line in plan)
    # A test database is tiny: a table scan would win on cost whatever the indexes are.
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
    scan = next(
        (i for i, line in enumerate(plan) if f"Index Scan on {index}" in line or f"Index Scan using {index}" in line),
        None,
    )
    return scan is not None and any("Index Cond" in line and "COALESCE" in line for line in plan[scan : scan + 3])


@pytest.mark.parametrize(
    "by, index", [("site", "ix_prescriptions_site_open_end"), ("patient", "ix_prescriptions_patient_open_end")]
)
def test_orders_in_force_are_read_through_the_open_end_index(factory, session, by, index):
    order = factory.order()
    ctx = factory.ctx(factory.nurse)
    key = {"site_id": order.site_id} if by == "site" else {"patient_ids": [order.patient_id, order.patient_id + 1]}
    assert _reads_through(session, index, lambda: governing_orders(ctx, MON, **key))


def test_police_sanctions_of_a_site_are_read_through_the_open_end_index(factory, session):
    police = factory.site(SiteKind.POLICE)
    ctx = factory.ctx(factory.nurse)
    assert _reads_through(session, "ix_sanctions_site_open_end", lambda: patients_sent_to(ctx, police.id, MON))
