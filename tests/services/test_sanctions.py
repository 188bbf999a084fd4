"""Sanctions in force change the arrangement by themselves; lifted, the order's own returns."""

from datetime import date, time, timedelta

import pytest

from dispensing.enums import Drug, Role, SanctionStep, SiteKind
from dispensing.errors import Conflict, Forbidden, InvalidInput
from dispensing.models import Breach, BreachKind, OrderStatus
from dispensing.services import conduct, custody, sanctions, sites
from dispensing.services.dispense import dispense
from dispensing.services.roster import build_roster

MON = date(2026, 3, 2)


def roster(factory, site, day=MON):
    return {e.patient.id: e for e in build_roster(factory.ctx(factory.nurse), site.id, day)}


def decide(factory, patient_id, step, **kw):
    kw.setdefault("starts_on", factory.clock.today)
    kw.setdefault("review_on", factory.clock.today + timedelta(days=28))
    kw.setdefault("reason", "Stort sidemisbrug drøftet på behandlingskonference")
    return sanctions.decide_sanction(factory.ctx(factory.doctor), patient_id, step=step, **kw)


@pytest.fixture
def police(factory):
    return factory.site(SiteKind.POLICE, windows=[sites.WindowSpec(d, time(10), time(11)) for d in range(7)])


def test_daily_pickup_refuses_take_home_naming_the_sanction_until_lifted(factory):
    clinic = factory.site()
    order = factory.order(site=clinic, pickup_weekdays=(0,), supervised=False)
    s = decide(factory, order.patient_id, SanctionStep.DAILY_PICKUP)
    entry = roster(factory, clinic)[order.patient_id]
    assert entry.take_home_days == 0 and [x.step for x in entry.sanctions] == [SanctionStep.DAILY_PICKUP]
    with pytest.raises(InvalidInput, match="daily pickup"):
        dispense(factory.ctx(factory.nurse), entry.slot.id, breath_promille=None, supervised=True, take_home_days=2)
    with pytest.raises(InvalidInput, match="supervised"):
        dispense(factory.ctx(factory.nurse), entry.slot.id, breath_promille=None, supervised=False, take_home_days=0)

    sanctions.lift_sanction(factory.ctx(factory.doctor), s.id, ends_on=MON - timedelta(days=1), reason="Stabil igen")
    entry = roster(factory, clinic)[order.patient_id]
    assert entry.take_home_days == 6 and entry.sanctions == ()
    assert (
        dispense(
            factory.ctx(factory.nurse), entry.slot.id, breath_promille=None, supervised=True, take_home_days=6
        ).dispense.take_home_days
        == 6
    )


def test_police_pickup_moves_the_slots_to_the_police_station_and_back(factory, police):
    clinic = factory.site()
    order = factory.order(site=clinic)
    before = roster(factory, clinic)[order.patient_id].slot  # today's slot exists at the clinic already
    s = decide(factory, order.patient_id, SanctionStep.POLICE_PICKUP, site_id=police.id)
    assert order.patient_id not in roster(factory, clinic)
    at_police = roster(factory, police)[order.patient_id]
    assert at_police.slot.id == before.id and at_police.slot.site_id == police.id
    prepared = custody.prepare_for_site(factory.ctx(factory.nurse), at_police.slot.id, take_home_days=0)
    assert prepared.site_id == police.id

    tomorrow = MON + timedelta(days=1)
    sanctions.lift_sanction(factory.ctx(factory.doctor), s.id, ends_on=MON, reason="Revurderet")
    assert order.patient_id in roster(factory, clinic, tomorrow)
    assert order.patient_id not in roster(factory, police, tomorrow)


def test_a_sanction_is_a_doctors_decision_that_never_starts_in_the_past(factory, police):
    patient = factory.patient()
    with pytest.raises(Forbidden):
        sanctions.decide_sanction(
            factory.ctx(factory.nurse),
            patient.id,
            step="daily_pickup",
            starts_on=MON,
            review_on=MON + timedelta(days=7),
            reason="x",
        )
    with pytest.raises(InvalidInput, match="past"):
        decide(factory, patient.id, SanctionStep.DAILY_PICKUP, starts_on=MON - timedelta(days=1))
    with pytest.raises(InvalidInput, match="review_on"):
        decide(factory, patient.id, SanctionStep.DAILY_PICKUP, review_on=MON)
    with pytest.raises(InvalidInput, match="police station"):
        decide(factory, patient.id, SanctionStep.POLICE_PICKUP, site_id=factory.site().id)
    with pytest.raises(InvalidInput, match="fritvalgsordning"):
        decide(factory, patient.id, SanctionStep.TERMINATION)


def test_termination_discontinues_the_orders_and_records_the_referral(factory):
    clinic = factory.site()
    order = factory.order(site=clinic)
    antabus = factory.order(
        patient=factory.session.get(type(factory.patient()), order.patient_id),
        site=clinic,
        drug=Drug.DISULFIRAM,
        dose="400",
    )
    ends = MON + timedelta(days=3)
    s = decide(
        factory,
        order.patient_id,
        SanctionStep.TERMINATION,
        starts_on=ends,
        referral_note="Henvist til privat behandlingssted via fritvalgsordningen",
    )
    assert s.referral_note.startswith("Henvist")
    for o in (order, antabus):
        assert o.status == OrderStatus.DISCONTINUED and o.discontinued_on == ends - timedelta(days=1)
    assert order.patient_id in roster(factory, clinic, ends - timedelta(days=1))
    assert order.patient_id not in roster(factory, clinic, ends)
    with pytest.raises(Conflict, match="not lifted"):
        sanctions.lift_sanction(factory.ctx(factory.doctor), s.id, ends_on=ends, reason="x")


def test_deciding_on_breaches_takes_them_off_the_doctors_list(factory):
    patient = factory.patient()
    nurse = factory.ctx(factory.nurse)
    b1 = conduct.record_breach(nurse, patient.id, kind="threats_or_violence", occurred_on=MON, note="Truede personale")
    b2 = conduct.record_breach(nurse, patient.id, kind=BreachKind.OTHER, occurred_on=MON)
    undecided = {b.id for b in conduct.undecided_breaches(factory.ctx(factory.doctor))}
    assert {b1.id, b2.id} <= undecided
    s = decide(factory, patient.id, SanctionStep.DAILY_PICKUP, breach_ids=[b1.id])
    conduct.decide_without_sanction(factory.ctx(factory.doctor), b2.id, "Drøftet, ingen sanktion")
    undecided = {b.id for b in conduct.undecided_breaches(factory.ctx(factory.doctor))}
    assert b1.id not in undecided and b2.id not in undecided and b1.sanction_id == s.id
    with pytest.raises(InvalidInput, match="kind"):
        conduct.record_breach(nurse, patient.id, kind="rudeness", occurred_on=MON)


def test_sanctions_due_for_review_are_listed_for_the_doctor(factory):
    soon = decide(factory, factory.patient().id, SanctionStep.DAILY_PICKUP, review_on=MON + timedelta(days=5))
    later = decide(factory, factory.patient().id, SanctionStep.DAILY_PICKUP, review_on=MON + timedelta(days=30))
    listed = {s.id for s in sanctions.due_for_review(factory.ctx(factory.doctor))}
    assert soon.id in listed and later.id not in listed


def test_a_run_of_no_shows_is_recorded_as_a_breach_once(factory, session):
    clinic = factory.site()
    order = factory.order(site=clinic)
    factory.clock.set(MON + timedelta(days=3))
    roster(factory, clinic, factory.clock.today)
    roster(factory, clinic, factory.clock.today)
    breaches = session.query(Breach).filter(Breach.patient_id == order.patient_id).all()
    assert [(b.kind, b.automatic) for b in breaches] == [(BreachKind.MISSED_PICKUPS, True)]


def test_site_staff_cannot_record_breaches(factory):
    staff = factory.user(Role.SITE_STAFF, site_id=factory.site(SiteKind.PHARMACY).id)
    with pytest.raises(Forbidden):
        conduct.record_breach(factory.ctx(staff), factory.patient().id, kind="other", occurred_on=MON)


def test_take_home_stops_before_a_sanction_that_starts_within_the_span(factory, police):
    clinic = factory.site()
    order = factory.order(site=clinic, pickup_weekdays=(0,), supervised=False)
    decide(factory, order.patient_id, SanctionStep.DAILY_PICKUP, starts_on=MON + timedelta(days=3))
    entry = roster(factory, clinic)[order.patient_id]
    assert entry.take_home_days == 2  # Tuesday and Wednesday; from Thursday every dose is picked up
    with pytest.raises(InvalidInput, match="more than allowed"):
        dispense(factory.ctx(factory.nurse), entry.slot.id, breath_promille=None, supervised=True, take_home_days=6)
    other = factory.order(site=clinic, pickup_weekdays=(0,), supervised=False)
    decide(factory, other.patient_id, SanctionStep.POLICE_PICKUP, site_id=police.id, starts_on=MON + timedelta(days=5))
    assert roster(factory, clinic)[other.patient_id].take_home_days == 4  # until the police pickup starts
