"""The web UI through HTTP (no browser): login, sessions, CSRF, roles, and the window's refusals in Danish."""

import re
from datetime import date, time, timedelta

from api.web import i18n
from dispensing.enums import Drug, Role, SiteKind
from dispensing.models import AuditEntry, Dispense, Patient, Prescription, Slot
from dispensing.services import audit, custody
from dispensing.services.roster import build_roster
from tests.conftest import PASSWORD

MONDAY = date(2026, 3, 2)


def slot_of(factory, site, patient_id, drug=Drug.METHADONE, day=MONDAY) -> int:
    entries = build_roster(factory.ctx(factory.nurse), site.id, day)
    return next(e.slot.id for e in entries if e.patient.id == patient_id and e.slot.drug == drug)


def status_of(session, slot_id) -> str:
    session.expire_all()
    return session.get(Slot, slot_id).status.value


# --- login, session, CSRF ----------------------------------------------------------------------------


def test_root_goes_to_the_ui_and_the_ui_asks_for_a_login(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/ui/"
    r = client.get("/ui/roster", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login?next=/ui/roster")
    page = client.get("/ui/login")
    assert page.status_code == 200 and 'lang="da"' in page.text
    assert '<label for="username">Brugernavn</label>' in page.text and "Adgangskode" in page.text


def test_login_then_the_roster_then_logout(ui, factory):
    site = factory.site()
    patient = factory.patient(name="Jens Ærø Hansen")
    factory.order(patient, site)
    r = ui.login(factory.nurse)
    assert r.status_code == 303 and r.headers["location"] == "/ui/roster"
    page = ui.page(f"/ui/roster?site_id={site.id}")
    assert page.status_code == 200
    assert "Jens Ærø Hansen" in page.text and "Dagens liste" in page.text and "Logget ind som" in page.text
    assert page.headers["cache-control"] == "no-store"
    r = ui.post("/ui/logout")
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert "Du er logget ud." in ui.page("/ui/login").text
    assert ui.client.get("/ui/roster", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_in_danish_and_audited(ui, factory, session):
    nurse = factory.nurse
    r = ui.login(nurse, password="wrong-password")
    assert r.status_code == 401
    assert "Forkert brugernavn eller adgangskode." in r.text
    audit.sweep_inbox(session)  # the failure waits in the audit inbox until the log is read
    failed = session.query(AuditEntry).filter(AuditEntry.action == "auth.login_failed").all()
    assert any(e.detail.get("username") == nurse.username for e in failed)


def test_login_form_without_csrf_token_is_refused(client, factory):
    nurse = factory.nurse
    r = client.post("/ui/login", data={"username": nurse.username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert "sikkerhedstjek" in r.text


def test_a_post_without_the_csrf_token_changes_nothing(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site)
    slot_id = slot_of(factory, site, order.patient_id)
    ui.login(factory.nurse)
    for token in (None, "forged-token"):
        data = {"supervised": "1", "take_home_days": "0"}
        if token:
            data["csrf_token"] = token
        r = ui.post(f"/ui/slots/{slot_id}/dispense", data, csrf=False)
        assert r.status_code == 403
        assert "Intet er ændret" in r.text
        assert status_of(session, slot_id) == "due"
    assert ui.post(f"/ui/slots/{slot_id}/dispense", {"supervised": "1"}).status_code == 303
    assert status_of(session, slot_id) == "dispensed"


def test_the_session_ends_after_inactivity(ui, factory, clock, app):
    site = factory.site()
    ui.login(factory.nurse)
    assert ui.page(f"/ui/roster?site_id={site.id}").status_code == 200
    clock.advance(minutes=app.state.settings.ui_idle_minutes - 1)
    assert ui.client.get(f"/ui/roster?site_id={site.id}", follow_redirects=False).status_code == 200  # still active
    clock.advance(minutes=app.state.settings.ui_idle_minutes + 1)
    r = ui.client.get(f"/ui/roster?site_id={site.id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login?next=")
    login = ui.page(r.headers["location"])
    assert "Du blev logget ud efter 15 minutter uden aktivitet." in login.text


def test_a_tampered_session_cookie_is_not_a_login(ui, factory):
    ui.login(factory.nurse)
    cookie = ui.client.cookies.get("dispensing_ui")
    ui.client.cookies.set("dispensing_ui", cookie[:-3] + "abc", path="/ui")
    assert ui.client.get("/ui/roster", follow_redirects=False).status_code == 303


def test_login_follows_only_paths_inside_the_ui(ui, factory):
    nurse = factory.nurse
    ui.page("/ui/login")
    r = ui.post("/ui/login", {"username": nurse.username, "password": PASSWORD, "next": "https://evil.example/x"})
    assert r.headers["location"] == "/ui/roster"


# --- roles ---------------------------------------------------------------------------------------------


def test_a_nurse_cannot_open_the_doctors_pages(ui, factory, session):
    draft = factory.order(sign=False)
    ui.login(factory.nurse)
    r = ui.page("/ui/doctor")
    assert r.status_code == 403 and "Ingen adgang" in r.text
    assert ui.page(f"/ui/doctor/orders/new?patient_id={draft.patient_id}&drug=methadone").status_code == 403
    r = ui.post(f"/ui/doctor/orders/{draft.id}/sign", {"password": PASSWORD})
    assert r.status_code == 403
    session.expire_all()
    assert session.get(Prescription, draft.id).status.value == "draft"


def test_site_staff_see_only_their_own_site(ui, factory, clock, session):
    pharmacy, other = factory.site(SiteKind.PHARMACY), factory.site(SiteKind.PHARMACY)
    order = factory.order(site=pharmacy)
    slot_id = slot_of(factory, pharmacy, order.patient_id)
    d = custody.prepare_for_site(factory.ctx(factory.nurse), slot_id, take_home_days=0)
    staff = factory.user(Role.SITE_STAFF, site_id=pharmacy.id)
    r = ui.login(staff)
    assert r.headers["location"] == "/ui/site"
    page = ui.page("/ui/site")
    assert page.status_code == 200 and d.number in page.text
    assert ui.page(f"/ui/site?site_id={other.id}").status_code == 403
    assert ui.page(f"/ui/roster?site_id={pharmacy.id}").status_code == 403  # the window is not theirs
    assert ui.page(f"/ui/slots/{slot_id}").status_code == 403

    stranger = factory.user(Role.SITE_STAFF, site_id=other.id)
    unchecked = ui.post(f"/ui/site/dispenses/{d.id}/handout", {"site_id": pharmacy.id})
    assert unchecked.status_code == 422 and "Tjek patientens identitet" in unchecked.text  # no tick: nothing done
    session.expire_all()
    assert session.get(Dispense, d.id).status.value == "prepared"
    ui2_post = ui.post(f"/ui/site/dispenses/{d.id}/handout", {"site_id": pharmacy.id, "identity_checked": "1"})
    assert ui2_post.status_code == 303  # their own dose, identity checked: handed out
    session.expire_all()
    assert session.get(Dispense, d.id).status.value == "dispensed"
    ui.post("/ui/logout")
    ui.login(stranger)
    r = ui.post(f"/ui/site/dispenses/{d.id}/return", {"site_id": other.id, "reason": "ikke afhentet"})
    assert r.status_code == 403


def test_site_staff_return_a_dose_with_a_reason(ui, factory, session):
    pharmacy = factory.site(SiteKind.PHARMACY)
    order = factory.order(site=pharmacy)
    d = custody.prepare_for_site(
        factory.ctx(factory.nurse), slot_of(factory, pharmacy, order.patient_id), take_home_days=0
    )
    ui.login(factory.user(Role.SITE_STAFF, site_id=pharmacy.id))
    r = ui.post(f"/ui/site/dispenses/{d.id}/return", {"site_id": pharmacy.id, "reason": "ikke afhentet"})
    assert r.status_code == 303
    assert "Returneret til klinikken." in ui.page(r.headers["location"]).text
    session.expire_all()
    assert session.get(Dispense, d.id).return_reason == "ikke afhentet"


# --- the window ----------------------------------------------------------------------------------------


def test_roster_badges_and_search(ui, factory, clock):
    site = factory.site()
    alice = factory.patient(name="Åse Kjærsgaard")
    bo = factory.patient(name="Bo Nielsen")
    factory.order(alice, site)
    factory.order(bo, site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3))
    ui.login(factory.nurse)
    page = ui.page(f"/ui/roster?site_id={site.id}&date={MONDAY}")
    assert "Åse Kjærsgaard" in page.text and "Bo Nielsen" in page.text
    assert "Alkometer" in page.text  # Antabus needs a breath reading
    assert alice.cpr not in page.text and f"{alice.cpr[:6]}-XXXX" in page.text  # masked in the list
    by_name = ui.page(f"/ui/roster?site_id={site.id}&date={MONDAY}&q=kjærs")
    assert "Åse Kjærsgaard" in by_name.text and "Bo Nielsen" not in by_name.text
    by_cpr = ui.page(f"/ui/roster?site_id={site.id}&date={MONDAY}&q={bo.cpr[-4:]}")
    assert "Bo Nielsen" in by_cpr.text and "Åse Kjærsgaard" not in by_cpr.text


def test_missed_days_and_block_show_on_the_roster(ui, factory, clock):
    site = factory.site()
    order = factory.order(site=site)
    for d in range(3):
        clock.set(MONDAY + timedelta(days=d), time(11))  # after the day's window
        from dispensing.services.dispense import record_no_show

        record_no_show(factory.ctx(factory.nurse), slot_of(factory, site, order.patient_id, day=clock.today))
    thursday = MONDAY + timedelta(days=3)
    clock.set(thursday)
    ui.login(factory.nurse)
    page = ui.page(f"/ui/roster?site_id={site.id}")
    assert "3 dage udeblevet" in page.text and "Blokeret" in page.text
    slot_id = slot_of(factory, site, order.patient_id, day=thursday)
    slot_page = ui.page(f"/ui/slots/{slot_id}")
    assert "Blokeret: 3 dage i træk uden dosis" in slot_page.text
    r = ui.post(f"/ui/slots/{slot_id}/dispense", {"supervised": "1"})
    assert r.status_code == 409 and "Afvist:" in r.text and "før en læge har vurderet patienten" in r.text


def test_routine_dispense_and_the_label(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0, 3))  # take-home Tuesday and Wednesday
    slot_id = slot_of(factory, site, order.patient_id)
    ui.login(factory.nurse)
    page = ui.page(f"/ui/slots/{slot_id}")
    assert 'name="take_home_days" min="0" max="2" value="2"' in page.text
    assert re.search(r'id="supervised" name="supervised" value="1" checked', page.text)
    r = ui.post(f"/ui/slots/{slot_id}/dispense", {"breath": "", "supervised": "1", "take_home_days": "2"})
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/dispenses/")
    result = ui.page(r.headers["location"])
    assert "Dosis er udleveret." in result.text and "Udskriv etiketter" in result.text
    dispense_id = int(r.headers["location"].rsplit("/", 1)[1])
    pdf = ui.client.get(f"/ui/dispenses/{dispense_id}/label.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert status_of(session, slot_id) == "dispensed"
    # once more: already dispensed, said in Danish
    again = ui.post(f"/ui/slots/{slot_id}/dispense", {"supervised": "1", "take_home_days": "0"})
    assert again.status_code == 409 and "er udleveret: der er intet at udlevere" in again.text


def test_the_label_needs_a_login(client, factory):
    assert client.get("/ui/dispenses/1/label.pdf", follow_redirects=False).status_code == 303


def test_take_home_over_the_allowed_is_refused_in_danish(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0, 3))
    slot_id = slot_of(factory, site, order.patient_id)
    ui.login(factory.nurse)
    r = ui.post(f"/ui/slots/{slot_id}/dispense", {"supervised": "1", "take_home_days": "5"})
    assert r.status_code == 422
    assert "For mange hjemmedoser: du valgte 5, ordinationen tillader højst 2 dag(e)" in r.text
    assert "more than allowed" not in r.text  # no English under it
    assert status_of(session, slot_id) == "due"


def test_antabus_without_a_breath_reading_is_refused(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3))
    slot_id = slot_of(factory, site, order.patient_id, Drug.DISULFIRAM)
    ui.login(factory.nurse)
    page = ui.page(f"/ui/slots/{slot_id}")
    assert re.search(r'<input id="breath"[^>]* required autofocus>', page.text)
    r = ui.post(f"/ui/slots/{slot_id}/dispense", {"breath": "", "supervised": "1"})
    assert r.status_code == 422 and "Alkometertest mangler" in r.text
    r = ui.post(f"/ui/slots/{slot_id}/dispense", {"breath": "abc", "supervised": "1"})
    assert r.status_code == 422 and "Ugyldig alkometerværdi" in r.text
    assert status_of(session, slot_id) == "due"


def test_antabus_with_alcohol_is_withheld_and_shown(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3))
    slot_id = slot_of(factory, site, order.patient_id, Drug.DISULFIRAM)
    ui.login(factory.nurse)
    r = ui.post(f"/ui/slots/{slot_id}/dispense", {"breath": "0,12", "supervised": "1"})
    assert r.status_code == 303 and r.headers["location"] == f"/ui/slots/{slot_id}"
    page = ui.page(r.headers["location"])
    assert "Dosis tilbageholdt" in page.text
    assert "Alkometeret viser 0,12 ‰, over grænsen for Antabus (0,00 ‰)" in page.text
    assert status_of(session, slot_id) == "withheld"
    roster = ui.page(f"/ui/roster?site_id={site.id}")
    assert "Tilbageholdt" in roster.text


def test_no_show_from_the_slot_page(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site)
    slot_id = slot_of(factory, site, order.patient_id)
    ui.login(factory.nurse)
    name = session.get(Patient, order.patient_id).name
    assert f'data-confirm="Registrér, at {name} ikke kom i dag?"' in ui.page(f"/ui/slots/{slot_id}").text
    r = ui.post(f"/ui/slots/{slot_id}/no-show", {"reason": "Meldte afbud i telefonen"})
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/roster")
    assert f"Registreret: {name} kom ikke." in ui.page(r.headers["location"]).text
    assert status_of(session, slot_id) == "missed"


def test_breach_from_the_slot_page(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site)
    slot_id = slot_of(factory, site, order.patient_id)
    ui.login(factory.nurse)
    r = ui.post(
        f"/ui/patients/{order.patient_id}/breaches",
        {"slot_id": slot_id, "kind": "threats_or_violence", "occurred_on": MONDAY.isoformat(), "note": "råbte"},
    )
    assert r.status_code == 303
    assert "Bruddet er registreret" in ui.page(r.headers["location"]).text


def test_urine_sample_with_a_positive_finding_goes_to_the_doctor(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site)
    slot_id = slot_of(factory, site, order.patient_id)
    ui.login(factory.nurse)
    r = ui.post(
        f"/ui/patients/{order.patient_id}/urine",
        {"slot_id": slot_id, "outcome": "sample", "result_methadone": "pos", "result_cocaine": "pos"},
    )
    assert r.status_code == 303
    assert "Urinprøven er registreret." in ui.page(r.headers["location"]).text
    ui.post("/ui/logout")
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor")
    assert "Positiv urinprøve" in desk.text


# --- the doctor ------------------------------------------------------------------------------------------


def test_the_doctor_signs_a_draft_with_the_password(ui, factory, session):
    draft = factory.order(sign=False)
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor")
    assert f'id="draft-{draft.id}"' in desk.text
    wrong = ui.post(f"/ui/doctor/orders/{draft.id}/sign", {"password": "not-my-password"})
    assert wrong.status_code == 422 and "Forkert adgangskode: ordinationen er ikke underskrevet." in wrong.text
    session.expire_all()
    assert session.get(Prescription, draft.id).status.value == "draft"
    audit.sweep_inbox(session)  # (the failure waits in the audit inbox until the log is read)
    refused = session.query(AuditEntry).filter(AuditEntry.action == "prescription.sign_refused").all()
    assert any(e.entity_id == draft.id for e in refused)  # the failed attempt is kept in the log
    r = ui.post(f"/ui/doctor/orders/{draft.id}/sign", {"password": PASSWORD})
    assert r.status_code == 303
    assert f"Ordination {draft.id} er underskrevet." in ui.page("/ui/doctor").text
    session.expire_all()
    assert session.get(Prescription, draft.id).status.value == "active"


def test_the_order_form_shows_the_titration_limits_and_checks_before_writing(ui, factory, session):
    patient = factory.patient()
    site = factory.site()
    ui.login(factory.doctor)
    form = ui.page(f"/ui/doctor/orders/new?patient_id={patient.id}&drug=methadone")
    assert "Titreringsgrænser (klinikkens politik)" in form.text
    assert "Første dag: højst 30 mg" in form.text and "Hver stigning: højst 10 mg" in form.text
    assert 'aria-describedby="dose-help limits"' in form.text
    values = {
        "patient_id": patient.id,
        "drug": "methadone",
        "product": "methadone-oral-1",
        "dose": "40",
        "weekdays": [str(d) for d in range(7)],
        "pickup_weekdays": [str(d) for d in range(7)],
        "supervised": "1",
        "site_id": site.id,
        "start_date": MONDAY.isoformat(),
        "indication": "Opioidafhængighed",
    }
    check = ui.post("/ui/doctor/orders", values | {"action": "check"})
    assert check.status_code == 200
    assert "Metadon første dag: 40 mg er over grænsen for første dag på 30 mg" in check.text
    assert "exceeds" not in check.text
    assert session.query(Prescription).filter(Prescription.patient_id == patient.id).count() == 0
    refused = ui.post("/ui/doctor/orders", values | {"action": "create"})
    assert refused.status_code == 422 and "Afvist:" in refused.text
    ok = ui.post("/ui/doctor/orders", values | {"action": "create", "dose": "30"})
    assert ok.status_code == 303
    drafts = session.query(Prescription).filter(Prescription.patient_id == patient.id).all()
    assert [(p.status.value, p.dose_mg) for p in drafts] == [("draft", 30)]


def test_the_doctor_revises_an_order(ui, factory, session):
    order = factory.order(dose="30")
    ui.login(factory.doctor)
    form = ui.page(f"/ui/doctor/orders/{order.id}/revise")
    assert "Nuværende dosis: 30 mg" in form.text
    values = {
        "product": order.product,
        "dose": "40",
        "weekdays": [str(d) for d in range(7)],
        "pickup_weekdays": [str(d) for d in range(7)],
        "supervised": "1",
        "site_id": order.site_id,
        "start_date": (MONDAY + timedelta(days=1)).isoformat(),
        "indication": "Opioidafhængighed",
        "reason": "abstinenser",
        "action": "create",
    }
    r = ui.post(f"/ui/doctor/orders/{order.id}/revise", values)
    assert r.status_code == 303
    revision = session.query(Prescription).filter(Prescription.supersedes_id == order.id).one()
    assert revision.status.value == "draft" and revision.dose_mg == 40


def test_a_revision_is_checked_first_and_a_refused_one_keeps_what_the_doctor_typed(ui, factory, session):
    order = factory.order(dose="30")
    ui.login(factory.doctor)
    ui.page(f"/ui/doctor/orders/{order.id}/revise")
    values = {
        "product": order.product,
        "dose": "40",
        "weekdays": ["0", "2", "4"],  # pickup days left unticked: pickup on every due day
        "site_id": order.site_id,
        "start_date": (MONDAY + timedelta(days=1)).isoformat(),
        "indication": "Opioidafhængighed",
        "reason": "abstinenser",
    }
    check = ui.post(f"/ui/doctor/orders/{order.id}/revise", values | {"action": "check"})
    assert check.status_code == 200 and 'value="40"' in check.text
    assert session.query(Prescription).filter(Prescription.supersedes_id == order.id).count() == 0  # nothing written
    refused = ui.post(f"/ui/doctor/orders/{order.id}/revise", values | {"reason": " "})
    assert refused.status_code == 422 and 'value="40"' in refused.text and "abstinenser" not in refused.text
    assert session.query(Prescription).filter(Prescription.supersedes_id == order.id).count() == 0
    r = ui.post(f"/ui/doctor/orders/{order.id}/revise", values)
    assert r.status_code == 303
    revision = session.query(Prescription).filter(Prescription.supersedes_id == order.id).one()
    assert (revision.dose_mg, revision.weekday_set, revision.supervised) == (40, frozenset({0, 2, 4}), False)


def test_the_doctor_reviews_a_withheld_dose(ui, factory, session):
    site = factory.site()
    order = factory.order(site=site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3))
    slot_id = slot_of(factory, site, order.patient_id, Drug.DISULFIRAM)
    from decimal import Decimal

    from dispensing.services.dispense import dispense

    dispense(factory.ctx(factory.nurse), slot_id, breath_promille=Decimal("0.3"), supervised=True, take_home_days=0)
    ui.login(factory.doctor)
    desk = ui.page("/ui/doctor")
    assert "Tilbageholdt dosis" in desk.text
    alert_id = int(re.search(r'id="alert-(\d+)"', desk.text).group(1))
    r = ui.post(f"/ui/doctor/alerts/{alert_id}/resolve", {"resolution": "talt med patienten"})
    assert r.status_code == 303 and "Gennemset." in ui.page("/ui/doctor").text


def test_every_word_on_the_pages_is_in_the_danish_catalogue(ui, factory):
    """Renders the main pages; a message id missing from api/web/locale/da.po would show up in English."""
    i18n.MISSING.clear()
    site = factory.site()
    order = factory.order(site=site, pickup_weekdays=(0, 3))
    factory.order(sign=False)
    slot_id = slot_of(factory, site, order.patient_id)
    ui.login(factory.doctor)
    for path in (
        "/ui/doctor",
        f"/ui/patients/{order.patient_id}",
        "/ui/patients?q=a",
        f"/ui/doctor/orders/new?patient_id={order.patient_id}",
        f"/ui/doctor/orders/{order.id}/revise",
        f"/ui/roster?site_id={site.id}",
        f"/ui/slots/{slot_id}",
    ):
        assert ui.page(path).status_code == 200, path
    assert set() == i18n.MISSING


def test_the_api_keeps_its_json_errors(client):
    r = client.get("/sites/1/roster")
    assert r.status_code == 401 and r.json()["detail"]


def test_every_form_post_of_the_ui_needs_the_csrf_token(ui, factory):
    """All POST routes under /ui refuse a request without the token before anything runs."""
    from api.web import auth, calendar, corrections, doctor, orders, site, stock, window

    ui.login(factory.doctor)
    modules = (auth, calendar, corrections, doctor, orders, site, stock, window)
    posts = [r.path for m in modules for r in m.router.routes if "POST" in r.methods]
    assert len(posts) >= 25 and "/ui/doctor/orders" in posts and "/ui/doctor/orders/{order_id}/revise" in posts
    for path in posts:
        r = ui.post(re.sub(r"\{[^}]+\}", "1", path), {"password": PASSWORD, "reason": "x"}, csrf=False)
        assert r.status_code == 403, path


def test_a_refused_form_rolls_back_what_the_use_case_wrote_and_shows_the_page(ui, factory, session, monkeypatch):
    """The refusal leaves through the request's transaction (rolled back); the page is drawn after it."""
    from api.web import doctor
    from dispensing.errors import Conflict
    from dispensing.services import audit

    def writes_then_refuses(ctx, alert_id, resolution):
        audit.record(ctx, "alert.resolve", "alert", alert_id, detail={"resolution": resolution})
        raise Conflict("state.conflict")

    monkeypatch.setattr(doctor.alerts, "resolve_alert", writes_then_refuses)
    ui.login(factory.doctor)
    before = session.query(AuditEntry).filter(AuditEntry.action == "alert.resolve").count()
    r = ui.post("/ui/doctor/alerts/12345/resolve", {"resolution": "tried"})
    assert r.status_code == 409
    assert "<h1>Lægens skrivebord" in r.text and 'id="drafts"' in r.text  # the desk, drawn after the rollback
    session.expire_all()
    assert session.query(AuditEntry).filter(AuditEntry.action == "alert.resolve").count() == before
