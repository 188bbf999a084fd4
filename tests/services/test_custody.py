"""Doses prepared for pickup sites: labels, handout, return, void, and the audit trail of each step."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from dispensing.enums import Drug, Role, SiteKind
from dispensing.errors import Conflict, Forbidden
from dispensing.labels import verify_label
from dispensing.models import AuditEntry, DispenseStatus, SlotStatus
from dispensing.services import custody, labels, prescriptions, sites, stock
from dispensing.services.dispense import dispense
from dispensing.services.roster import build_roster
from tests.conftest import LABEL_KEY, PASSWORD

MON = date(2026, 3, 2)


@pytest.fixture
def pharmacy(factory):
    return factory.site(SiteKind.PHARMACY, windows=[sites.WindowSpec(d, time(9), time(17)) for d in range(7)])


def slot_of(factory, site, order, day):
    entries = build_roster(factory.ctx(factory.nurse), site.id, day)
    return next(e.slot for e in entries if e.patient.id == order.patient_id)


def staff_of(factory, site):
    return factory.user(Role.SITE_STAFF, site_id=site.id)


def test_prepared_doses_are_labelled_one_bottle_a_day_and_handed_out_at_the_site(factory, pharmacy, session):
    order = factory.order(
        site=pharmacy, dose="70", product="methadone-oral-10", pickup_weekdays=(0, 2, 4), override="Known tolerance"
    )
    d = custody.prepare_for_site(
        factory.ctx(factory.nurse), slot_of(factory, pharmacy, order, MON).id, take_home_days=None
    )
    assert d.status == DispenseStatus.PREPARED and d.covers == ["2026-03-02", "2026-03-03"]
    assert slot_of(factory, pharmacy, order, MON).status == SlotStatus.PREPARED

    built = labels.build_labels(factory.ctx(factory.nurse), d)
    assert [(b.copy_no, b.copies, b.covers) for b in built] == [(1, 2, (MON,)), (2, 2, (MON + timedelta(days=1),))]
    assert built[0].dose_ml == Decimal("7") and built[0].site_name == pharmacy.name
    claims = verify_label(built[1].token, LABEL_KEY.public_key())
    assert (claims.dispense_id, claims.copy_no, claims.first_day) == (d.id, 2, MON + timedelta(days=1))

    staff = staff_of(factory, pharmacy)
    assert [x.id for x in labels.site_dispenses(factory.ctx(staff), pharmacy.id, MON)] == [d.id]
    custody.hand_out(factory.ctx(staff), d.id)
    assert d.status == DispenseStatus.DISPENSED
    assert slot_of(factory, pharmacy, order, MON).status == SlotStatus.DISPENSED
    with pytest.raises(Conflict):
        custody.hand_out(factory.ctx(staff), d.id)
    session.commit()  # as the request does: the use case's entries join the chain at its commit
    steps = [
        e.action
        for e in session.query(AuditEntry).filter(AuditEntry.entity_id == d.id, AuditEntry.entity == "dispense")
    ]
    assert steps[0] == "dispense.prepared" and "dispense.handed_out" in steps


def test_staff_of_another_site_see_and_confirm_nothing(factory, pharmacy):
    order = factory.order(site=pharmacy)
    d = custody.prepare_for_site(
        factory.ctx(factory.nurse), slot_of(factory, pharmacy, order, MON).id, take_home_days=0
    )
    other = staff_of(factory, factory.site(SiteKind.POLICE))
    with pytest.raises(Forbidden):
        custody.hand_out(factory.ctx(other), d.id)
    with pytest.raises(Forbidden):
        labels.site_dispenses(factory.ctx(other), pharmacy.id, MON)
    with pytest.raises(Forbidden):  # the clinic nurse does not confirm a handout at a site
        custody.hand_out(factory.ctx(factory.nurse), d.id)


def test_returned_doses_reopen_their_days(factory, pharmacy):
    order = factory.order(site=pharmacy, pickup_weekdays=(0, 3))
    d = custody.prepare_for_site(
        factory.ctx(factory.nurse), slot_of(factory, pharmacy, order, MON).id, take_home_days=None
    )
    factory.clock.set(MON + timedelta(days=1))  # not collected Monday; returned Tuesday
    custody.return_to_clinic(factory.ctx(staff_of(factory, pharmacy)), d.id, "Ikke afhentet")
    assert d.status == DispenseStatus.RETURNED and d.return_reason == "Ikke afhentet"
    assert slot_of(factory, pharmacy, order, MON).status == SlotStatus.MISSED
    tuesday = slot_of(factory, pharmacy, order, MON + timedelta(days=1))
    assert tuesday.status == SlotStatus.DUE and tuesday.covered_by_dispense_id is None
    again = custody.prepare_for_site(factory.ctx(factory.nurse), tuesday.id, take_home_days=None)
    assert again.covers == ["2026-03-03", "2026-03-04"]


def test_doses_are_prepared_from_today_up_to_the_policy_horizon(factory, pharmacy):
    order = factory.order(site=pharmacy)
    with pytest.raises(Conflict, match="7 day"):
        custody.prepare_for_site(
            factory.ctx(factory.nurse), slot_of(factory, pharmacy, order, MON + timedelta(8)).id, take_home_days=0
        )
    ahead = custody.prepare_for_site(
        factory.ctx(factory.nurse), slot_of(factory, pharmacy, order, MON + timedelta(days=4)).id, take_home_days=0
    )
    assert ahead.first_day == MON + timedelta(days=4)
    with pytest.raises(Conflict, match="only on that day"):  # the patient comes early: not before its day
        custody.hand_out(factory.ctx(staff_of(factory, pharmacy)), ahead.id)


def test_a_late_pickup_is_not_handed_out_and_a_returned_bundle_counts_its_past_days_missed(factory, pharmacy):
    order = factory.order(site=pharmacy, pickup_weekdays=(0,))
    d = custody.prepare_for_site(
        factory.ctx(factory.nurse), slot_of(factory, pharmacy, order, MON).id, take_home_days=None
    )
    assert len(d.covers) == 7
    staff = staff_of(factory, pharmacy)
    factory.clock.set(MON + timedelta(days=6))  # the patient turns up on Sunday
    with pytest.raises(Conflict, match="only on that day"):
        custody.hand_out(factory.ctx(staff), d.id)
    custody.return_to_clinic(factory.ctx(staff), d.id, "Ikke afhentet til tiden")
    entry = build_roster(factory.ctx(factory.nurse), pharmacy.id, MON + timedelta(days=6))[0]
    assert entry.slot.status == SlotStatus.DUE  # Sunday's dose is due again, to be prepared anew
    assert entry.missed_consecutive == 6 and entry.blocked_reason  # Monday to Saturday without methadone


def test_a_prepared_dose_is_not_handed_out_after_the_doctor_stopped_the_order(factory, pharmacy):
    order = factory.order(site=pharmacy)
    wednesday = MON + timedelta(days=2)
    d = custody.prepare_for_site(
        factory.ctx(factory.nurse), slot_of(factory, pharmacy, order, wednesday).id, take_home_days=0
    )
    prescriptions.discontinue_order(factory.ctx(factory.doctor), order.id, MON, "Behandling stoppet")
    factory.clock.set(wednesday)
    with pytest.raises(Conflict, match="Return it to the clinic"):
        custody.hand_out(factory.ctx(staff_of(factory, pharmacy)), d.id)


def test_window_and_site_doses_do_not_mix(factory, pharmacy):
    order = factory.order(site=pharmacy)
    with pytest.raises(Conflict, match="prepare it"):
        dispense(
            factory.ctx(factory.nurse),
            slot_of(factory, pharmacy, order, MON).id,
            breath_promille=None,
            supervised=True,
            take_home_days=0,
        )
    with pytest.raises(Exception, match="Antabus"):  # the order itself is fine; preparing it is not
        antabus = factory.order(site=pharmacy, drug=Drug.DISULFIRAM, dose="400")
        custody.prepare_for_site(
            factory.ctx(factory.nurse), slot_of(factory, pharmacy, antabus, MON).id, take_home_days=0
        )
    clinic = factory.site()
    window = factory.order(site=clinic)
    with pytest.raises(Conflict, match="clinic window"):
        custody.prepare_for_site(factory.ctx(factory.nurse), slot_of(factory, clinic, window, MON).id, take_home_days=0)


def test_void_take_home_reopens_unused_days_and_the_label_shows_void(factory):
    clinic = factory.site()
    order = factory.order(site=clinic, pickup_weekdays=(0, 3))
    slot = slot_of(factory, clinic, order, MON)
    d = dispense(
        factory.ctx(factory.nurse), slot.id, breath_promille=None, supervised=True, take_home_days=None
    ).dispense
    token = labels.build_labels(factory.ctx(factory.nurse), d)[0].token
    witness = stock.Witness(factory.user(Role.NURSE).username, PASSWORD)
    custody.void_dispense(factory.ctx(factory.nurse), d.id, "Flaske tabt og knust", witness=witness)
    assert labels.verify(factory.ctx(factory.nurse), token)["status"] == "void"
    assert slot_of(factory, clinic, order, MON).status == SlotStatus.DISPENSED  # taken at the window
    assert slot_of(factory, clinic, order, MON + timedelta(days=1)).status == SlotStatus.DUE
    with pytest.raises(Conflict, match="void"):
        labels.dispense_label_pdf(factory.ctx(factory.nurse), d.id)


def test_supervised_only_dispense_has_no_label(factory):
    clinic = factory.site()
    order = factory.order(site=clinic)
    d = dispense(
        factory.ctx(factory.nurse),
        slot_of(factory, clinic, order, MON).id,
        breath_promille=None,
        supervised=True,
        take_home_days=None,
    ).dispense
    with pytest.raises(Conflict, match="no take-home"):
        labels.dispense_label_pdf(factory.ctx(factory.nurse), d.id)


def test_campral_goes_home_as_one_pack(factory):
    clinic = factory.site()
    order = factory.order(site=clinic, drug=Drug.ACAMPROSATE, dose="1998", pickup_weekdays=(0,), supervised=False)
    d = dispense(
        factory.ctx(factory.nurse),
        slot_of(factory, clinic, order, MON).id,
        breath_promille=None,
        supervised=False,
        take_home_days=None,
    ).dispense
    (pack,) = labels.build_labels(factory.ctx(factory.nurse), d)
    assert len(pack.covers) == 6 and pack.total_mg == Decimal("11988") and pack.dose_ml is None


def test_a_tampered_or_foreign_token_is_not_valid(factory):
    assert labels.verify(factory.ctx(factory.nurse), "NOT-A-TOKEN") == {"valid": False}
