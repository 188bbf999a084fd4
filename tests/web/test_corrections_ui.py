"""Corrections in the web UI (issue 15), without a browser: the doctor's desk lists doses handed out outside
the dispensing times and signs past a flag with a reason; the slot page offers only what the role may do."""

from datetime import time
from decimal import Decimal

from dispensing.enums import Drug
from dispensing.models import Prescription, SignOverride
from dispensing.services import sites
from dispensing.services.dispense import dispense
from tests.web.test_ui import MONDAY, slot_of, status_of

W = sites.WindowSpec


def test_the_doctor_sees_doses_handed_out_outside_the_dispensing_times(ui, factory, clock):
    site = factory.site(windows=[W(d, time(8), time(10)) for d in range(7)])
    order = factory.order(site=site)
    slot_id = slot_of(factory, site, order.patient_id)
    clock.set(MONDAY, time(18, 40))
    ui.login(factory.nurse)
    assert "Uden for udleveringstid" in ui.page(f"/ui/roster?site_id={site.id}&date={MONDAY}").text
    refused = ui.post(f"/ui/slots/{slot_id}/dispense", {"supervised": "1", "take_home_days": "0"})
    assert refused.status_code == 409 and "næste udleveringstid er" in refused.text
    assert status_of(factory.session, slot_id) == "due"
    done = ui.post(
        f"/ui/slots/{slot_id}/dispense",
        {"supervised": "1", "take_home_days": "0", "outside_window_reason": "Forsinket bus"},
    )
    assert done.status_code == 303
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor").text
    assert "Doser udleveret uden for udleveringstid (7 dage)" in desk and "Forsinket bus" in desk


def test_the_doctor_signs_past_a_missing_window_with_a_reason_from_the_desk(ui, factory, session):
    site = factory.site(windows=[W(0, time(14, 30), time(16), (Drug.DISULFIRAM,))])
    draft = factory.order(site=site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3), sign=False)
    ui.login(factory.doctor)
    ui.page("/ui/doctor")
    r = ui.post(f"/ui/doctor/orders/{draft.id}/sign", {"password": "correct-horse-battery"})
    assert r.status_code == 422 and "ingen udleveringstid for Antabus om torsdag" in r.text
    assert "<details open>" in r.text  # the reason fields are shown at once
    r = ui.post(
        f"/ui/doctor/orders/{draft.id}/sign",
        {"password": "correct-horse-battery", "window_override_reason": "Torsdag efter aftale"},
    )
    assert r.status_code == 303
    session.expire_all()
    assert session.get(Prescription, draft.id).status.value == "active"
    assert [o.reason for o in session.query(SignOverride).filter_by(prescription_id=draft.id)] == [
        "Torsdag efter aftale"
    ]


def test_only_the_doctor_is_offered_the_reopen_and_only_the_nurse_the_undo(ui, factory, session, clock):
    site = factory.site()
    order = factory.order(site=site)
    slot_id = slot_of(factory, site, order.patient_id)
    dispense(factory.ctx(factory.nurse), slot_id, breath_promille=Decimal("0.9"), supervised=True, take_home_days=0)
    factory.session.commit()
    ui.login(factory.nurse)
    assert "Genåbn dosen" not in ui.page(f"/ui/slots/{slot_id}").text
    ui.login(factory.doctor)
    page = ui.page(f"/ui/slots/{slot_id}").text
    assert "Genåbn dosen" in page and 'data-confirm="Genåbn dosen i dag?"' in page
    r = ui.post(f"/ui/slots/{slot_id}/reopen", {"reason": ""})
    assert r.status_code == 422 and status_of(session, slot_id) == "withheld"
    r = ui.post(f"/ui/slots/{slot_id}/reopen", {"reason": "Ædru"})
    assert r.status_code == 303 and status_of(session, slot_id) == "due"

    clock.set(MONDAY, time(11))
    ui.login(factory.nurse)
    assert ui.post(f"/ui/slots/{slot_id}/no-show").status_code == 303
    assert "Fortryd udeblivelse" in ui.page(f"/ui/slots/{slot_id}").text
    r = ui.post(f"/ui/slots/{slot_id}/undo-no-show", {"reason": "Kom alligevel"})
    assert r.status_code == 303 and status_of(session, slot_id) == "due"
