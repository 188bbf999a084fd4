"""Every error status of the API carries a stable code and its values; Accept-Language: da gives the
Danish sentence (API.md). The shape itself is checked on every error by tests/api/_helpers.Api."""

from dispensing.enums import Drug
from tests.api._helpers import MONDAY, api, expect  # noqa: F401  (api is a fixture)

DA = {"Accept-Language": "da, en;q=0.5"}


def test_each_error_status_has_its_code(api, factory, client):
    site = factory.site()
    order = factory.order(factory.patient(), site, drug=Drug.METHADONE, dose="30")
    assert expect(client.get(f"/sites/{site.id}/roster"), 401)["code"] == "auth.not_authenticated"
    nurse_signs = api.post(f"/prescriptions/{order.id}/sign", factory.nurse, json={"password": "x"})
    body = expect(nurse_signs, 403)
    assert body["code"] == "auth.role_required" and body["params"]["have"] == "nurse"
    body = expect(api.get("/patients/987654", factory.nurse), 404)
    assert body["code"] == "record.not_found" and body["params"] == {"record": "Patient", "id": "987654"}
    (line,) = api.roster(site.id, MONDAY)
    expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.00"), 201)
    again = expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.00"), 409)
    assert again["code"] == "slot.not_due" and again["params"]["state"] == "dispensed"
    assert expect(api.post("/patients", factory.nurse, json={"cpr": "x"}), 422)["code"] == "request.invalid"


def test_danish_detail_with_numbers_and_dates_as_a_dane_writes_them(api, factory):
    site = factory.site()
    factory.order(factory.patient(), site, drug=Drug.METHADONE, dose="30", pickup_weekdays=(0, 3))
    (line,) = api.roster(site.id, MONDAY)
    want = {"breath_alcohol_promille": "0.00", "supervised": True, "take_home_days": 5}
    r = api.post(f"/slots/{line['slot_id']}/dispense", factory.nurse, json=want, headers=DA)
    body = expect(r, 422)
    assert body["code"] == "dispense.take_home_over"
    assert body["params"]["wanted"] == 5 and body["params"]["slot_date"] == "2026-03-02"
    assert "du valgte 5" in body["detail"] and "2. marts 2026" in body["detail"]
    english = expect(api.dispense(line["slot_id"], breath_alcohol_promille="0.00", take_home_days=5), 422)
    assert english["code"] == body["code"] and "more than allowed" in english["detail"]


def test_a_police_station_is_never_an_orders_site(api, factory):
    from dispensing.enums import SiteKind

    police = factory.site(SiteKind.POLICE)
    patient = factory.patient()
    terms = {
        "patient_id": patient.id,
        "drug": "methadone",
        "product": "methadone-oral-1",
        "dose_mg": "30",
        "weekdays": list(range(7)),
        "site_id": police.id,
        "start_date": MONDAY.isoformat(),
        "indication": "Opioidafhængighed",
    }
    body = expect(api.post("/prescriptions", factory.doctor, json=terms, headers=DA), 422)
    assert body["code"] == "order.site_police" and "politistation" in body["detail"]
    assert expect(api.get("/no/such/path", factory.nurse), 404)["code"] == "request.no_such_path"
