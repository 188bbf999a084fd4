"""The contingency sheet: a site's due doses on paper for when the system is down, read back with pdftotext."""

import subprocess
from datetime import UTC, datetime, time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dispensing.cli import main
from dispensing.config import get_settings
from dispensing.db import make_engine, make_session_factory, transaction
from dispensing.demo import load_demo
from dispensing.enums import Drug, Role
from dispensing.migrate import upgrade_to_head
from dispensing.models import Patient, User
from dispensing.services import calendar
from dispensing.services.context import Ctx
from tests.api._helpers import MONDAY, api, day, expect  # noqa: F401  (api is a fixture)
from tests.conftest import SECRET, TZ
from tests.labels.factories import require_tool

TUESDAY, WEDNESDAY, THURSDAY = day(1), day(2), day(3)


def pdf_text(content: bytes) -> str:
    """The sheet's words, whitespace collapsed (a table cell may wrap)."""
    # -raw: in the order drawn, so a wrapped table cell reads as one run of words
    out = subprocess.run([require_tool("pdftotext"), "-raw", "-", "-"], input=content, capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def sheet(api, site_id, on, user=None) -> str:
    r = api.get(f"/sites/{site_id}/contingency.pdf", user or api.factory.nurse, params={"date": on.isoformat()})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    return pdf_text(r.content)


def test_the_sheet_holds_every_due_dose_of_the_site_with_its_flags_and_none_of_another_site(api, factory, clock):
    site, other = factory.site(), factory.site()
    home = factory.patient(name="Åse Højgaard")
    took_home = factory.order(home, site, drug=Drug.METHADONE, dose="25", pickup_weekdays=(0, 3), start=MONDAY)
    blocked = factory.order(factory.patient(name="Carl Blok"), site, drug=Drug.METHADONE, dose="30", start=MONDAY)
    factory.order(factory.patient(name="Dorthe Andetsted"), other, drug=Drug.METHADONE, dose="30")
    # Monday: Åse takes Monday's dose and Tuesday-Wednesday home; Carl never comes.
    expect(api.dispense(api.slot(site.id, MONDAY, took_home.patient_id)["slot_id"]), 201)

    clock.set(WEDNESDAY, time(18))  # the evening job prints Thursday's sheet
    text = sheet(api, site.id, THURSDAY)
    assert site.name in text and "torsdag 5. marts 2026" in text
    assert "Åse Højgaard" in text
    assert "Dorthe Andetsted" not in text  # another site's patient
    # Åse: Thursday is a pickup day; she takes Friday-Sunday home
    assert "25 mg (25 ml)" in text
    assert "med hjem 3 dage: fre 6/3, lør 7/3, søn 8/3" in text
    # Carl: Monday-Wednesday missed, Thursday blocked
    assert "Carl Blok" in text and "MÅ IKKE UDLEVERES" in text and "3 udeblevne dage i træk" in text, text
    patients = {p.id: p for p in api.factory.session.execute(select(Patient)).scalars()}
    for order in (took_home, blocked):
        cpr = patients[order.patient_id].cpr
        assert f"{cpr[:6]}-XXXX" in text and cpr not in text and f"{cpr[:6]}-{cpr[6:]}" not in text
    for column in ("Promille", "Kl.", "Initialer", "Udebl. dage", "Alkometer"):
        assert column in text, text


def test_antabus_lines_ask_for_the_breathalyser_and_a_take_home_day_says_it_is_covered(api, factory, clock):
    site = factory.site()
    a = factory.order(factory.patient(name="Bjørn Ærø"), site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0, 3))
    m = factory.order(factory.patient(name="Åse Højgaard"), site, drug=Drug.METHADONE, dose="30", pickup_weekdays=(0,))
    expect(api.dispense(api.slot(site.id, MONDAY, m.patient_id)["slot_id"], take_home_days=3), 201)
    text = sheet(api, site.id, THURSDAY)
    assert "Bjørn Ærø" in text and "400 mg" in text and "JA" in text
    assert "Åse Højgaard" in text and "Har fået dagens dosis med hjem: udleveres ikke." in text
    assert text.index("Bjørn Ærø") < text.index("JA") < text.index("Åse Højgaard")  # sorted by name
    assert a.patient_id != m.patient_id


def test_a_drug_limited_window_gets_its_own_table(api, factory, session):
    admin = factory.admin
    body = {"name": f"Klinik {factory.cpr()}", "kind": "clinic"}
    site_id = expect(api.post("/sites", admin, json=body), 201)["id"]
    windows = [
        {"weekday": 0, "start": "08:00", "end": "10:00", "drugs": ["methadone"]},
        {"weekday": 0, "start": "14:30", "end": "16:00", "drugs": ["disulfiram"]},
    ]
    expect(api.put(f"/sites/{site_id}/windows", admin, json=windows), 200)
    from dispensing.models import Site

    site = session.get(Site, site_id)
    factory.order(factory.patient(name="Morgen Metadon"), site, drug=Drug.METHADONE, dose="30", weekdays=(0,))
    factory.order(factory.patient(name="Eftermiddag Antabus"), site, drug=Drug.DISULFIRAM, dose="400", weekdays=(0,))
    text = sheet(api, site_id, MONDAY)
    morning, afternoon = text.index("Udleveringstid 08:00–10:00"), text.index("Udleveringstid 14:30–16:00")
    assert morning < text.index("Morgen Metadon") < afternoon < text.index("Eftermiddag Antabus")


def test_the_sheet_is_an_audited_read_for_nurse_doctor_and_admin_only(api, factory):
    site = factory.site()
    m = factory.order(factory.patient(), site, drug=Drug.METHADONE, dose="30")
    for user in (factory.nurse, factory.doctor, factory.admin):
        sheet(api, site.id, MONDAY, user)
    staff = factory.user(Role.SITE_STAFF, site_id=site.id)
    expect(api.get(f"/sites/{site.id}/contingency.pdf", staff, params={"date": MONDAY.isoformat()}), 403)
    expect(api.get("/sites/999999/contingency.pdf", factory.nurse), 404)
    expect(api.get(f"/sites/{site.id}/contingency.pdf", factory.nurse, params={"date": "2026-13-01"}), 422)
    entries = [e for e in api.audit() if e["action"] == "contingency.print" and e["entity_id"] == site.id]
    assert len(entries) == 3 and m.patient_id in entries[0]["detail"]["patient_ids"]


def test_an_empty_day_still_prints_a_sheet_that_says_so(api, factory):
    site = factory.site()
    assert "Ingen doser forfalder" in sheet(api, site.id, MONDAY)


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    monkeypatch.setenv("DISPENSING_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("DISPENSING_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_cli_prints_a_sites_sheet_for_the_evening_job(cli_db):
    engine = make_engine(f"sqlite:///{cli_db}/cli.db")
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as s:
        load_demo(s, get_settings(), now=datetime.now(UTC))
    with transaction(factory) as s:
        nurse = s.execute(select(User).where(User.username == "sygeplejerske")).scalar_one()
        site_id, names = nurse.site_id, [p.name for p in s.execute(select(Patient)).scalars()]
        admin = s.execute(select(User).where(User.role == Role.ADMIN)).scalars().first()
        ctx = Ctx(session=s, actor=admin, now=datetime.now(UTC), tz=TZ, secret=SECRET)
        calendar.set_holiday_rule(ctx, site_id, False)  # open on any day the test runs (rule 17)
    engine.dispose()
    out = cli_db / "sheet.pdf"
    runner = CliRunner()
    args = ["contingency", "--site", str(site_id), "--date", "today", "--as", "sygeplejerske", "--out", str(out)]
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    text = pdf_text(out.read_bytes())
    assert any(name in text for name in names) and "MÅ IKKE UDLEVERES" in text  # the demo's blocked patient
    assert runner.invoke(main, [*args[:-2], "--out", str(cli_db / "x.pdf"), "--date", "someday"]).exit_code != 0
    unknown = runner.invoke(main, ["contingency", "--site", str(site_id), "--as", "nobody", "--out", str(out)])
    assert unknown.exit_code != 0 and "nobody" in unknown.output
