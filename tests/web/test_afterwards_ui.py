"""The web UI around downtime: the sheet from the roster, the badge, and the doctor's list of paper records."""

from datetime import date, datetime, time

from api.web import i18n
from dispensing.services import dispense as window
from dispensing.services.roster import build_roster
from tests.conftest import TZ
from tests.web._ui import ui  # noqa: F401  (a fixture)

MONDAY = date(2026, 3, 2)


def paper_dispense(factory, clock, site, patient_id):
    """A dose given at 08:20 from the sheet, entered at the clock's time."""
    ctx = factory.ctx(factory.nurse)
    slot = next(e.slot for e in build_roster(ctx, site.id, MONDAY) if e.patient.id == patient_id)
    given = datetime.combine(MONDAY, time(8, 20), tzinfo=TZ)
    result = window.dispense(ctx, slot.id, breath_promille=None, supervised=True, take_home_days=0, given_at=given)
    factory.session.commit()
    return result.dispense


def test_the_roster_links_the_sheet_and_marks_a_dose_entered_afterwards(ui, factory, clock):
    i18n.MISSING.clear()
    site = factory.site()
    order = factory.order(factory.patient(name="Åse Højgaard"), site)
    clock.set(MONDAY, time(11))
    d = paper_dispense(factory, clock, site, order.patient_id)
    ui.login(factory.nurse)
    roster = ui.page(f"/ui/roster?site_id={site.id}&date={MONDAY.isoformat()}")
    assert "Udskriv nødliste" in roster.text and "Registreret efterfølgende" in roster.text
    sheet = ui.page(f"/ui/sites/{site.id}/contingency.pdf?date={MONDAY.isoformat()}")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    page = ui.page(f"/ui/dispenses/{d.id}")
    assert "Fra nødlisten, indtastet" in page.text and "08:20" in page.text
    assert i18n.MISSING == set()


def test_the_doctors_desk_lists_todays_records_entered_afterwards(ui, factory, clock):
    i18n.MISSING.clear()
    site = factory.site()
    paper = factory.order(factory.patient(name="Papir Patient"), site)
    at_window = factory.order(factory.patient(name="Luge Patient"), site)
    clock.set(MONDAY, time(9, 35))  # the system is back inside the window
    paper_dispense(factory, clock, site, paper.patient_id)
    ctx = factory.ctx(factory.nurse)
    slot = next(e.slot for e in build_roster(ctx, site.id, MONDAY) if e.patient.id == at_window.patient_id)
    window.dispense(ctx, slot.id, breath_promille=None, supervised=True, take_home_days=0)
    factory.session.commit()
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor").text
    section = desk[desk.index('id="entered-afterwards"') :]
    assert "Papir Patient" in section and "08:20" in section and "09:35" in section
    assert "Luge Patient" not in section
    assert i18n.MISSING == set()
