"""The nurse's stock screens (Danish): receipt, count, waste, balances, ledger; the doctor's desk lists
count differences and negative balances."""

import re
from datetime import date

from sqlalchemy import select

from api.web import i18n
from dispensing.enums import Role
from dispensing.models import Alert
from dispensing.services.dispense import dispense
from dispensing.services.roster import build_roster
from tests.conftest import PASSWORD

MON = date(2026, 3, 2)


def _witness(factory):
    w = factory.user(Role.NURSE)
    return {"witness_username": w.username, "witness_password": PASSWORD}


def _alert_of(factory, clinic) -> int:
    """The open alert of this clinic (other tests' committed sites may have theirs on the desk too)."""
    return factory.session.execute(select(Alert.id).where(Alert.site_id == clinic.id)).scalar_one()


def test_the_nurse_receives_counts_and_wastes_stock_with_a_witness(ui, factory):
    i18n.MISSING.clear()
    clinic = factory.site()
    nurse = factory.user(Role.NURSE, site_id=clinic.id)
    ui.login(nurse)
    page = ui.page("/ui/stock")
    assert page.status_code == 200 and "Modtag varer" in page.text and clinic.name in page.text
    w = _witness(factory)
    base = {"site_id": clinic.id, "product": "methadone-tab-5"}
    r = ui.post(
        "/ui/stock/receipts",
        base | w | {"quantity": "100", "batch": "B7", "expiry": "2027-01-31", "supplier": "Apoteket"},
    )
    assert r.status_code == 303
    assert "Varerne er modtaget." in ui.page(r.headers["location"]).text
    refused = ui.post(
        "/ui/stock/receipts", base | w | {"quantity": "100", "batch": "B8", "expiry": "2026-01-01", "supplier": "A"}
    )
    assert refused.status_code == 422 and "udløbne varer modtages ikke" in refused.text
    no_csrf = ui.post("/ui/stock/waste", base | w | {"quantity": "1", "reason": "x"}, csrf=False)
    assert no_csrf.status_code == 403
    r = ui.post("/ui/stock/counts", base | w | {"counted": "99"})
    shown = ui.page(r.headers["location"]).text
    assert "Optalt 99, forventet 100: difference -1." in shown and "Uden for tolerancen" in shown
    wrong = ui.post(
        "/ui/stock/waste",
        base
        | {
            "quantity": "1",
            "reason": "Knust",
            "witness_username": w["witness_username"],
            "witness_password": "forkert",
        },
    )
    assert wrong.status_code == 422 and "Vidnets brugernavn eller adgangskode er forkert" in wrong.text
    r = ui.post("/ui/stock/waste", base | w | {"quantity": "1", "reason": "Knust"})
    balances = ui.page(r.headers["location"]).text
    assert re.search(r'id="stock-methadone-tab-5".*?99 tabletter', balances, re.S)
    ledger = ui.page(f"/ui/stock/ledger?site_id={clinic.id}&product=methadone-tab-5&start=2026-03-01")
    for word in ("Modtagelse", "Optælling", "Kassation", "Knust", "B7"):
        assert word in ledger.text, word
    pdf = ui.page(f"/ui/stock/ledger.pdf?site_id={clinic.id}&month=2026-03")
    assert pdf.headers["content-type"] == "application/pdf"
    assert not i18n.MISSING


def test_the_doctors_desk_lists_count_differences_and_negative_balances(ui, factory):
    i18n.MISSING.clear()
    clinic = factory.site()
    order = factory.order(site=clinic, dose="30")
    slot = next(e.slot for e in build_roster(factory.ctx(factory.nurse), clinic.id, MON) if e.order.id == order.id)
    dispense(factory.ctx(factory.nurse), slot.id, breath_promille=None, supervised=True, take_home_days=0)
    factory.session.commit()  # nothing received: the dose went, the ledger is below zero
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor").text
    assert "Negativ beholdning" in desk and "er under nul (-30 ml)" in desk
    alert_id = _alert_of(factory, clinic)
    assert f'id="alert-{alert_id}"' in desk
    r = ui.post(f"/ui/doctor/alerts/{alert_id}/resolve", {"resolution": "Varer bestilt"})
    assert r.status_code == 303 and f'id="alert-{alert_id}"' not in ui.page("/ui/doctor").text
    assert not i18n.MISSING


def test_the_admin_sees_and_reviews_the_stock_alerts_on_the_stock_page(ui, factory):
    clinic = factory.site()
    order = factory.order(site=clinic, dose="30")
    slot = next(e.slot for e in build_roster(factory.ctx(factory.nurse), clinic.id, MON) if e.order.id == order.id)
    dispense(factory.ctx(factory.nurse), slot.id, breath_promille=None, supervised=True, take_home_days=0)
    factory.session.commit()
    ui.login(factory.admin)
    page = ui.page(f"/ui/stock?site_id={clinic.id}").text
    assert "Negativ beholdning" in page and "under nul: optæl og modtag varer" in page
    alert_id = _alert_of(factory, clinic)
    r = ui.post(f"/ui/stock/alerts/{alert_id}/resolve", {"resolution": "Optalt"})
    assert r.status_code == 303 and "Negativ beholdning" not in ui.page(r.headers["location"]).text
