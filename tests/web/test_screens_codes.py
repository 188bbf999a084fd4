"""Issue 14 at the screens: the order form's site, the signing card, a colleague's draft, prepared doses,
the pickup site's label check and identity tick, and voiding a dispense. Every refusal in Danish."""

import re

from dispensing.enums import Role, SiteKind
from dispensing.models import Dispense, Patient, Prescription
from dispensing.services import custody
from dispensing.services.labels import build_labels
from tests.conftest import PASSWORD
from tests.web.test_ui import MONDAY, slot_of

ENGLISH = re.compile(r"\b(is|the|must|order \d|Slot \d|POST /)\b")


def _visible(html: str) -> str:
    """The page's text without tags, scripts and attribute values (what a reader sees)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_order_form_has_no_preselected_site_and_never_the_police(ui, factory, session):
    clinic, police = factory.site(), factory.site(SiteKind.POLICE)
    patient = factory.patient()
    ui.login(factory.doctor)
    form = ui.page(f"/ui/doctor/orders/new?patient_id={patient.id}&drug=methadone").text
    assert '<option value="" selected>Vælg udleveringssted</option>' in form
    options = re.search(r'<select id="site_id".*?</select>', form, flags=re.S).group(0)
    assert f'value="{clinic.id}"' in options and f'value="{police.id}"' not in options
    assert options.count(" selected") == 1  # only the "choose" line
    values = {
        "patient_id": patient.id,
        "drug": "methadone",
        "product": "methadone-oral-1",
        "dose": "30",
        "weekdays": [str(d) for d in range(7)],
        "pickup_weekdays": [str(d) for d in range(7)],
        "supervised": "1",
        "start_date": MONDAY.isoformat(),
        "indication": "Opioidafhængighed",
    }
    for site_id, danish in (
        ("", "Vælg udleveringssted: klinikken"),
        (police.id, "afhentning på politistation sker kun"),
    ):
        r = ui.post("/ui/doctor/orders", values | {"site_id": site_id})
        assert r.status_code == 422 and danish in r.text
        assert not ENGLISH.search(_visible(r.text).split("Afvist:")[1][:300])
    assert session.query(Prescription).filter(Prescription.patient_id == patient.id).count() == 0


def test_the_signing_card_shows_every_term_and_a_colleagues_draft_needs_a_confirmation(ui, factory, session):
    pharmacy = factory.site(SiteKind.PHARMACY)
    colleague = factory.user(Role.DOCTOR, can_prescribe=True)
    mine = factory.order(site=pharmacy, sign=False, pickup_weekdays=(0, 3), override="tolerance known")
    theirs = factory.order(sign=False)
    theirs.created_by_id = colleague.id
    session.flush()
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor").text
    assert desk.index(f'id="draft-{mine.id}"') < desk.index(f'id="draft-{theirs.id}"')  # own drafts first
    card = desk[desk.index(f'id="draft-{mine.id}"') : desk.index(f'id="draft-{theirs.id}"')]
    for term in ("30 mg = 30 ml", pharmacy.name, "man tor", "krævet", "test indication", "tolerance known"):
        assert term in card, term
    assert f"Skrevet af {factory.doctor.full_name}" in card and "din kladde" in card
    refused = ui.post(f"/ui/doctor/orders/{theirs.id}/sign", {"password": PASSWORD})
    assert refused.status_code == 422 and f"Kladden er skrevet af {colleague.full_name}" in refused.text
    session.expire_all()
    assert session.get(Prescription, theirs.id).status.value == "draft"
    ok = ui.post(f"/ui/doctor/orders/{theirs.id}/sign", {"password": PASSWORD, "colleague_confirmed": "1"})
    assert ok.status_code == 303
    session.expire_all()
    assert session.get(Prescription, theirs.id).status.value == "active"


def test_a_prepared_dose_reads_prepared_for_the_site_until_it_is_handed_out(ui, factory, session):
    pharmacy = factory.site(SiteKind.PHARMACY)
    order = factory.order(site=pharmacy)
    slot_id = slot_of(factory, pharmacy, order.patient_id)
    ui.login(factory.nurse)
    r = ui.post(f"/ui/slots/{slot_id}/prepare", {"take_home_days": "0"})
    receipt = _visible(ui.page(r.headers["location"]).text)
    assert f"Klargjort til {pharmacy.name}" in receipt and "Udleveret" not in receipt
    slot_page = _visible(ui.page(f"/ui/slots/{slot_id}").text)
    assert f"Klargjort til {pharmacy.name}" in slot_page and "Udleveret" not in slot_page
    assert "Overvåget indtagelse" in slot_page and "Overvåget indtagelse" in receipt


def test_the_site_checks_a_labels_qr_and_hands_out_only_with_identity_checked(ui, factory, session):
    pharmacy, other = factory.site(SiteKind.PHARMACY), factory.site(SiteKind.PHARMACY)
    order = factory.order(site=pharmacy)
    d = custody.prepare_for_site(
        factory.ctx(factory.nurse), slot_of(factory, pharmacy, order.patient_id), take_home_days=0
    )
    (label,) = build_labels(factory.ctx(factory.nurse), d)
    patient_name = session.get(Patient, order.patient_id).name
    ui.login(factory.user(Role.SITE_STAFF, site_id=pharmacy.id))
    checked = ui.page("/ui/site", params={"token": label.token}).text
    assert 'id="label-check"' in checked and "Ægte etiket" in checked and "-XXXX" in checked
    assert patient_name in checked
    forged = ui.page("/ui/site", params={"token": label.token[:-4] + "AAAA"})
    assert forged.status_code == 422 and "Etikettens kode er ikke gyldig" in forged.text
    ui.post("/ui/logout")
    ui.login(factory.user(Role.SITE_STAFF, site_id=other.id))
    foreign = ui.page("/ui/site", params={"token": label.token})
    assert foreign.status_code == 403 and "hører til et andet udleveringssted" in foreign.text
    assert 'id="label-check"' not in foreign.text


def test_void_from_the_dispense_page_with_a_reason(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0, 3))
    slot_id = slot_of(factory, site, order.patient_id)
    ui.login(factory.nurse)
    r = ui.post(f"/ui/slots/{slot_id}/dispense", {"supervised": "1", "take_home_days": "2"})
    page = ui.page(r.headers["location"]).text
    dispense_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert 'data-confirm="Annullér udlevering nr.' in page
    no_reason = ui.post(f"/ui/dispenses/{dispense_id}/void", {"reason": " "})
    assert no_reason.status_code == 422 and "Skriv en grund til annulleringen" in no_reason.text
    no_witness = ui.post(f"/ui/dispenses/{dispense_id}/void", {"reason": "flaske knust"})
    assert no_witness.status_code == 422 and 'name="witness_username"' in no_witness.text
    witness = factory.user(Role.NURSE)
    done = ui.post(
        f"/ui/dispenses/{dispense_id}/void",
        {"reason": "flaske knust", "witness_username": witness.username, "witness_password": PASSWORD},
    )
    assert done.status_code == 303 and "er annulleret" in ui.page(done.headers["location"]).text
    session.expire_all()
    assert session.get(Dispense, dispense_id).status.value == "void"
    again = ui.post(f"/ui/dispenses/{dispense_id}/void", {"reason": "igen"})
    assert again.status_code == 409 and "kan ikke annulleres" in again.text
