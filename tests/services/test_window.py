"""The window's use cases end to end at the service level: roster, take-home, missed days, revisions."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from dispensing.enums import Drug
from dispensing.errors import Conflict, InvalidInput
from dispensing.models import AuditEntry, SlotStatus
from dispensing.services import prescriptions, sites
from dispensing.services.dispense import dispense, record_no_show, release_block
from dispensing.services.policy import update_policy
from dispensing.services.roster import build_roster
from tests.conftest import PASSWORD

MON = date(2026, 3, 2)


def roster(factory, site, day):
    return {e.patient.id: e for e in build_roster(factory.ctx(factory.nurse), site.id, day)}


def give(factory, entry, *, breath=None, take_home=None, supervised=True):
    return dispense(
        factory.ctx(factory.nurse),
        entry.slot.id,
        breath_promille=breath,
        supervised=supervised,
        take_home_days=take_home,
    )


def at(factory, day):
    factory.clock.set(day)


def test_pickup_monday_and_thursday_covers_the_days_until_the_next_pickup(factory):
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0, 3))
    entry = roster(factory, site, MON)[order.patient_id]
    assert entry.take_home_days == 2

    result = give(factory, entry)

    assert result.dispense.covers == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert result.dispense.total_mg == Decimal("90")
    at(factory, MON + timedelta(days=1))
    assert roster(factory, site, MON + timedelta(days=1))[order.patient_id].slot.status == SlotStatus.COVERED
    thursday = roster(factory, site, MON + timedelta(days=3))[order.patient_id]
    assert (thursday.slot.status, thursday.take_home_days) == (SlotStatus.DUE, 3)  # Fri, Sat, Sun


def test_fewer_take_home_days_leave_the_rest_due(factory):
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0, 3))
    give(factory, roster(factory, site, MON)[order.patient_id], take_home=1)
    wednesday = MON + timedelta(days=2)
    at(factory, wednesday)
    entry = roster(factory, site, wednesday)[order.patient_id]
    assert entry.slot.status == SlotStatus.DUE
    assert entry.take_home_days == 0  # Thursday is a pickup day


def test_catch_up_visit_after_a_missed_pickup_gets_the_remainder(factory):
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0, 3))
    record_no_show(factory.ctx(factory.nurse), roster(factory, site, MON)[order.patient_id].slot.id, "meldt afbud")
    at(factory, MON + timedelta(days=1))
    tuesday = roster(factory, site, MON + timedelta(days=1))[order.patient_id]
    assert tuesday.take_home_days == 1  # Wednesday only
    assert give(factory, tuesday).dispense.covers == ["2026-03-03", "2026-03-04"]


def test_take_home_is_capped_by_policy_and_by_the_order_end(factory):
    site = factory.site()
    weekly = factory.order(site=site, pickup_weekdays=(0,))
    assert roster(factory, site, MON)[weekly.patient_id].take_home_days == 6
    update_policy(factory.ctx(factory.doctor), {"take_home_max_days": 3})
    entry = roster(factory, site, MON)[weekly.patient_id]
    assert entry.take_home_days == 2
    with pytest.raises(InvalidInput, match="more than allowed"):
        give(factory, entry, take_home=3)

    ending = factory.order(site=site, pickup_weekdays=(0,), end_date=MON + timedelta(days=1))
    assert roster(factory, site, MON)[ending.patient_id].take_home_days == 1


def test_antabus_is_due_on_its_weekdays_in_its_own_window_and_never_goes_home(factory):
    W = sites.WindowSpec
    site = factory.site(
        windows=[
            W(0, time(8), time(10), (Drug.METHADONE,)),
            W(0, time(14, 30), time(16), (Drug.DISULFIRAM,)),
            W(3, time(14, 30), time(16), (Drug.DISULFIRAM,)),
        ]
    )
    order = factory.order(site=site, drug=Drug.DISULFIRAM, dose="800", weekdays=(0, 3))
    factory.clock.set(MON, time(14, 30))
    entry = roster(factory, site, MON)[order.patient_id]
    assert [(w.start, w.end) for w in entry.windows] == [(time(14, 30), time(16))]
    assert entry.breathalyser_required and entry.take_home_days == 0
    assert order.patient_id not in roster(factory, site, MON + timedelta(days=1))
    with pytest.raises(InvalidInput, match="breathalyser"):
        give(factory, entry)
    assert give(factory, entry, breath=Decimal("0.00")).status == "dispensed"


def test_withheld_antabus_is_recorded_and_cannot_be_retried_the_same_day(factory):
    site = factory.site()
    order = factory.order(site=site, drug=Drug.DISULFIRAM, dose="400")
    entry = roster(factory, site, MON)[order.patient_id]
    result = give(factory, entry, breath=Decimal("0.01"))
    assert result.status == "withheld" and "0.00" in result.reason
    with pytest.raises(Conflict, match="withheld"):
        give(factory, entry, breath=Decimal("0.00"))


def test_past_due_slots_become_missed_and_the_run_counts_across_a_weekend(factory):
    site = factory.site()
    order = factory.order(site=site, weekdays=(0, 1, 2, 3, 4))  # Mon-Fri
    give(factory, roster(factory, site, MON)[order.patient_id])  # Monday taken
    # Tuesday..Friday nobody comes; the weekend is not due.
    next_monday = MON + timedelta(days=7)
    at(factory, next_monday)
    entry = roster(factory, site, next_monday)[order.patient_id]
    assert entry.missed_consecutive == 4
    assert "blocked" in entry.blocked_reason and "restart at most 30 mg" in entry.blocked_reason
    friday = roster(factory, site, MON + timedelta(days=4))[order.patient_id]
    assert friday.slot.status == SlotStatus.MISSED  # a past day's due slot became missed
    with pytest.raises(Conflict, match="blocked"):
        give(factory, entry)


def test_two_missed_days_do_not_block_three_do(factory):
    site = factory.site()
    order = factory.order(site=site)
    give(factory, roster(factory, site, MON)[order.patient_id])
    at(factory, MON + timedelta(days=3))
    assert roster(factory, site, factory.clock.today)[order.patient_id].blocked_reason is None
    at(factory, MON + timedelta(days=4))
    entry = roster(factory, site, factory.clock.today)[order.patient_id]
    assert entry.missed_consecutive == 3 and entry.blocked_reason.startswith("3 consecutive missed days")


def test_doctor_release_lifts_the_block_until_new_misses(factory):
    site = factory.site()
    order = factory.order(site=site)
    at(factory, MON + timedelta(days=3))
    assert roster(factory, site, factory.clock.today)[order.patient_id].blocked_reason
    release_block(factory.ctx(factory.doctor), order.patient_id, Drug.METHADONE, "Seen by doctor, dose kept")
    entry = roster(factory, site, factory.clock.today)[order.patient_id]
    assert entry.blocked_reason is None and entry.missed_consecutive == 3
    assert give(factory, entry).status == "dispensed"
    at(factory, MON + timedelta(days=7))  # Friday to Sunday missed after the review
    again = roster(factory, site, factory.clock.today)[order.patient_id]
    assert again.missed_consecutive == 3 and again.blocked_reason


def test_signed_revision_takes_over_open_slots_from_its_effective_date(factory):
    site = factory.site()
    order = factory.order(site=site, dose="30")
    wednesday = MON + timedelta(days=2)
    roster(factory, site, wednesday)  # Wednesday's slot exists already under version 1
    doctor = factory.ctx(factory.doctor)
    draft = prescriptions.revise_order(doctor, order.id, {"dose_mg": Decimal("40")}, wednesday, "Abstinens")
    revised = prescriptions.sign_order(doctor, draft.id, PASSWORD)
    assert order.status.value == "superseded" and order.superseded_on == wednesday
    assert roster(factory, site, MON + timedelta(days=1))[order.patient_id].order.dose_mg == Decimal("30")
    entry = roster(factory, site, wednesday)[order.patient_id]
    assert entry.order.id == revised.id and entry.slot.prescription_id == revised.id


def test_discontinuing_warns_about_take_home_doses_beyond_the_end(factory):
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0,))
    give(factory, roster(factory, site, MON)[order.patient_id])  # covers Tue..Sun
    result = prescriptions.discontinue_order(factory.ctx(factory.doctor), order.id, MON + timedelta(days=2), "Stop")
    assert result.warnings and "4 take-home dose(s)" in result.warnings[0]
    # The day after the end still shows the bottle already at home, and nothing due.
    assert roster(factory, site, MON + timedelta(days=3))[order.patient_id].slot.status == SlotStatus.COVERED


def test_dispense_and_roster_are_audited_without_cpr(factory, session):
    site = factory.site()
    order = factory.order(site=site)
    patient = order.patient_id
    give(factory, roster(factory, site, MON)[patient])
    session.commit()  # as the request does: the use case's entries join the chain at its commit
    entries = session.query(AuditEntry).order_by(AuditEntry.seq.desc()).limit(2).all()
    assert [e.action for e in entries] == ["dispense.dispensed", "roster.read"]
    assert entries[0].patient_id == patient
    assert patient in entries[1].detail["patient_ids"]
    cpr = session.get(type(factory.patient()), patient).cpr
    assert all(cpr not in str(e.detail) for e in session.query(AuditEntry).all())


def test_dose_is_handed_out_only_on_the_slots_own_day_in_the_clinics_zone(factory):
    site = factory.site()
    dst_sunday = date(2026, 3, 29)  # clocks go forward at 02:00
    order = factory.order(site=site, start=dst_sunday)
    at(factory, dst_sunday - timedelta(days=1))
    entry = roster(factory, site, dst_sunday)[order.patient_id]
    with pytest.raises(Conflict, match="only on its own day"):
        give(factory, entry)
    factory.clock.set(dst_sunday, time(3, 30))  # 01:30 UTC, already Sunday in Copenhagen
    assert (
        dispense(
            factory.ctx(factory.nurse),
            entry.slot.id,
            breath_promille=None,
            supervised=True,
            take_home_days=None,
            outside_window_reason="natlig udlevering",
        ).status
        == "dispensed"
    )


def test_a_run_longer_than_a_week_counts_back_to_the_last_dose_taken(factory):
    # missed_states reads the last few days first and further back only for those without a dose in them.
    site = factory.site()
    order = factory.order(site=site)
    give(factory, roster(factory, site, MON)[order.patient_id])  # Monday taken
    later = MON + timedelta(days=11)  # Tuesday to the Thursday after next: ten days without a dose
    at(factory, later)
    entry = roster(factory, site, later)[order.patient_id]
    assert entry.missed_consecutive == 10 and entry.blocked_reason


def test_after_the_restart_limit_a_release_does_not_let_a_high_methadone_dose_through(factory):
    site = factory.site()
    order = factory.order(site=site, dose="60", override="Kendt tolerance")
    at(factory, MON + timedelta(days=4))  # Monday to Thursday without methadone
    assert roster(factory, site, factory.clock.today)[order.patient_id].missed_consecutive == 4
    with pytest.raises(Conflict, match="restarts at most 30"):
        release_block(factory.ctx(factory.doctor), order.patient_id, Drug.METHADONE, "Set af lægen")


def test_a_new_order_after_missed_days_meets_the_restart_limit(factory):
    site = factory.site()
    order = factory.order(site=site, dose="60", override="Kendt tolerance")
    give(factory, roster(factory, site, MON)[order.patient_id])
    at(factory, MON + timedelta(days=6))  # Tuesday to Saturday missed
    doctor = factory.ctx(factory.doctor)
    prescriptions.discontinue_order(doctor, order.id, factory.clock.today - timedelta(days=1), "Ny ordination")
    terms = prescriptions.OrderTerms(
        drug=Drug.METHADONE,
        dose_mg=Decimal("60"),
        site_id=site.id,
        start_date=factory.clock.today,
        indication="genstart",
    )
    with pytest.raises(InvalidInput, match="first-day"):  # 5 days without a dose: a new start
        prescriptions.create_order(doctor, order.patient_id, terms)
    terms.dose_mg = Decimal("30")
    assert prescriptions.create_order(doctor, order.patient_id, terms).dose_mg == Decimal("30")


def test_an_order_discontinued_and_rewritten_today_still_has_todays_dose(factory):
    site = factory.site()
    order = factory.order(site=site)
    roster(factory, site, MON)
    doctor = factory.ctx(factory.doctor)
    prescriptions.discontinue_order(doctor, order.id, MON - timedelta(days=1), "Forkert præparat")
    assert order.patient_id not in roster(factory, site, MON)
    terms = prescriptions.OrderTerms(
        drug=Drug.METHADONE,
        dose_mg=Decimal("25"),
        site_id=site.id,
        start_date=MON,
        indication="ny ordination",
        product="methadone-tab-5",
    )
    new = prescriptions.sign_order(doctor, prescriptions.create_order(doctor, order.patient_id, terms).id, PASSWORD)
    entry = roster(factory, site, MON)[order.patient_id]
    assert entry.slot.status == SlotStatus.DUE and entry.order.id == new.id and entry.order.dose_mg == Decimal("25")


def test_missed_days_are_counted_per_patient_and_drug_when_a_roster_reads_many_at_once(factory):
    # The roster reads the slots of all its patients and drugs in one query: Anna's missed Antabus
    # elsewhere must not count against her methadone here, nor Bo's missed methadone against his Antabus.
    here, elsewhere = factory.site(), factory.site()
    anna, bo = factory.patient(), factory.patient()
    anna_methadone = factory.order(anna, here)
    bo_antabus = factory.order(bo, here, drug=Drug.DISULFIRAM, dose="400")
    anna_antabus = factory.order(anna, elsewhere, drug=Drug.DISULFIRAM, dose="400")
    bo_methadone = factory.order(bo, elsewhere)
    for offset in range(4):
        at(factory, MON + timedelta(days=offset))
        today = roster(factory, here, factory.clock.today)
        give(factory, today[anna.id])
        give(factory, today[bo.id], breath=Decimal("0.00"))
    at(factory, MON + timedelta(days=4))
    here_today = roster(factory, here, factory.clock.today)
    assert here_today[anna.id].order.id == anna_methadone.id and here_today[anna.id].missed_consecutive == 0
    assert here_today[bo.id].order.id == bo_antabus.id and here_today[bo.id].missed_consecutive == 0
    assert here_today[anna.id].blocked_reason is None and here_today[bo.id].blocked_reason is None
    elsewhere_today = roster(factory, elsewhere, factory.clock.today)
    assert elsewhere_today[anna.id].order.id == anna_antabus.id and elsewhere_today[anna.id].missed_consecutive == 4
    assert elsewhere_today[anna.id].blocked_reason is None  # Antabus is not an opioid: no block
    assert elsewhere_today[bo.id].order.id == bo_methadone.id and elsewhere_today[bo.id].missed_consecutive == 4
    assert "blocked" in elsewhere_today[bo.id].blocked_reason


def test_a_release_lifts_only_the_block_it_was_given_for(factory):
    site = factory.site()
    first, second = factory.order(site=site), factory.order(site=site)
    at(factory, MON + timedelta(days=3))
    before = roster(factory, site, factory.clock.today)
    assert before[first.patient_id].blocked_reason and before[second.patient_id].blocked_reason
    release_block(factory.ctx(factory.doctor), first.patient_id, Drug.METHADONE, "Seen by doctor, dose kept")
    after = roster(factory, site, factory.clock.today)
    assert after[first.patient_id].blocked_reason is None
    assert after[second.patient_id].blocked_reason and after[second.patient_id].missed_consecutive == 3
    with pytest.raises(Conflict, match="blocked"):
        give(factory, after[second.patient_id])
    assert give(factory, after[first.patient_id]).status == "dispensed"
