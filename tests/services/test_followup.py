"""Consultations every 6 months (rule 9), the treatment guarantee (10), minors (11), SIB (12)."""

from datetime import date, timedelta

import pytest

from dispensing.enums import Drug
from dispensing.errors import InvalidInput
from dispensing.models import Patient
from dispensing.services import followup
from dispensing.services.patients import update_patient
from dispensing.services.roster import build_roster

START = date(2026, 3, 2)


def test_a_consultation_falls_due_six_months_after_the_start_or_the_last_one(factory):
    order = factory.order()
    doctor = lambda: factory.ctx(factory.doctor)  # noqa: E731
    due_ids = lambda: {d.patient.id: d for d in followup.consultations_due(doctor())}  # noqa: E731
    factory.clock.set(START + timedelta(days=183 - 15))
    assert order.patient_id not in due_ids()
    factory.clock.set(START + timedelta(days=183 - 14))
    assert due_ids()[order.patient_id].due_on == START + timedelta(days=183)
    followup.record_consultation(doctor(), order.patient_id, held_on=factory.clock.today, plan="Fortsat 30 mg")
    assert order.patient_id not in due_ids()
    with pytest.raises(InvalidInput, match="future"):
        followup.record_consultation(
            doctor(), order.patient_id, held_on=factory.clock.today + timedelta(days=1), plan="x"
        )


def test_antabus_only_patients_are_not_on_the_substitution_consultation_list(factory):
    order = factory.order(drug=Drug.DISULFIRAM, dose="400")
    factory.clock.set(START + timedelta(days=200))
    assert order.patient_id not in {d.patient.id for d in followup.consultations_due(factory.ctx(factory.doctor))}


def test_treatment_guarantee_lists_first_contacts_until_started_and_seen(factory):
    patient = factory.patient()  # first contact today
    rows = {g.patient.id: g for g in followup.treatment_guarantee(factory.ctx(factory.doctor))}
    assert rows[patient.id].deadline == START + timedelta(days=14) and not rows[patient.id].treatment_started
    factory.order(patient=patient)
    followup.record_consultation(factory.ctx(factory.doctor), patient.id, held_on=START, plan="Start 30 mg")
    assert patient.id not in {g.patient.id for g in followup.treatment_guarantee(factory.ctx(factory.doctor))}


def test_a_minor_gets_an_order_only_with_the_consents(factory, session):
    minor = factory.patient(cpr="0203104236")  # digit 7 = 4: born 2 March 2010: 16 on the start day
    with pytest.raises(InvalidInput, match="under 18"):
        factory.order(patient=minor)
    nurse = factory.ctx(factory.nurse)
    update_patient(nurse, minor.id, {"parental_consent_on": START})
    with pytest.raises(InvalidInput, match="own consent"):
        factory.order(patient=minor)
    update_patient(nurse, minor.id, {"own_consent_on": START})
    order = factory.order(patient=minor)
    site_entries = build_roster(factory.ctx(factory.nurse), order.site_id, START)
    assert "under_18" in site_entries[0].flags
    with pytest.raises(InvalidInput, match="future"):
        update_patient(nurse, minor.id, {"own_consent_on": START + timedelta(days=1)})


def test_sib_report_lists_the_months_substitution_with_the_prescribers_authorisation(factory):
    order = factory.order()
    factory.doctor.authorisation_id = "AUTH-42"
    factory.order(drug=Drug.ACAMPROSATE, dose="1998", supervised=False)  # not substitution treatment
    cpr = factory.session.get(Patient, order.patient_id).cpr
    rows = [r for r in followup.sib_report(factory.ctx(factory.doctor), 2026, 3) if r.cpr == cpr]
    assert [(r.drug, r.prescriber_authorisation_id, r.first_day, r.last_day) for r in rows] == [
        ("methadone", "AUTH-42", START, date(2026, 3, 31))
    ]
    feb = followup.sib_report(factory.ctx(factory.doctor), 2026, 2)
    assert all(r.cpr != rows[0].cpr for r in feb)
    with pytest.raises(InvalidInput):
        followup.sib_report(factory.ctx(factory.doctor), 2026, 13)
