"""Split doses (DOMAIN.md rule 18) through the whole window path: a slot per part with its own
window, supervision per part, exactly once per part, and a day missed only when no part was given."""

from datetime import time, timedelta

from dispensing.services import sites
from tests.api._helpers import MONDAY, api, day, expect  # noqa: F401  (api is a fixture)

PASSWORD = "correct-horse-battery"
SPLIT = [
    {"time": "08:00", "dose_mg": "20", "supervised": True},
    {"time": "20:00", "dose_mg": "10", "supervised": False},
]


def two_window_site(factory):
    windows = [sites.WindowSpec(d, time(8, 0), time(10, 0)) for d in range(7)]
    windows += [sites.WindowSpec(d, time(14, 30), time(16, 0)) for d in range(7)]
    return factory.site(windows=windows)


def split_order(api, patient_id, site_id, **kw):
    body = {
        "patient_id": patient_id,
        "drug": "methadone",
        "dose_mg": "30",
        "site_id": site_id,
        "start_date": MONDAY.isoformat(),
        "indication": "opioid dependence, pregnant week 34",
        "doses": SPLIT,
    } | kw
    draft = api.post("/prescriptions", api.factory.doctor, json=body)
    if draft.status_code != 201:
        return draft
    return api.post(f"/prescriptions/{draft.json()['id']}/sign", api.factory.doctor, json={"password": PASSWORD})


def parts(api, site_id, on, patient_id):
    lines = [i for i in api.roster(site_id, on) if i["patient"]["id"] == patient_id]
    return sorted(lines, key=lambda i: i["part"])


def test_each_part_is_its_own_slot_with_its_own_window(api, factory):
    site, patient = two_window_site(factory), factory.patient()
    order = expect(split_order(api, patient.id, site.id), 200)
    assert [(d["time"], d["dose_mg"], d["supervised"]) for d in order["doses"]] == [
        ("08:00", "20", True),
        ("20:00", "10", False),
    ]
    morning, evening = parts(api, site.id, MONDAY, patient.id)
    assert (morning["part"], morning["part_time"], morning["dose_mg"], morning["supervised"]) == (
        0,
        "08:00",
        "20",
        True,
    )
    assert (evening["part"], evening["part_time"], evening["dose_mg"], evening["supervised"]) == (
        1,
        "20:00",
        "10",
        False,
    )
    assert [(w["start"], w["end"]) for w in morning["windows"]] == [("08:00", "10:00")]
    assert [(w["start"], w["end"]) for w in evening["windows"]] == [("14:30", "16:00")]  # the last before 20:00

    # The supervised part must be watched; the take-home part need not be.
    assert api.dispense(morning["slot_id"], supervised=False).status_code == 422
    first = expect(api.dispense(morning["slot_id"]), 201)
    assert (first["dose_mg"], first["total_mg"]) == ("20", "20")
    api.clock.set(MONDAY, time(15, 0))
    second = expect(api.dispense(evening["slot_id"], supervised=False), 201)
    assert second["dose_mg"] == "10"
    # Exactly once per part.
    assert api.dispense(morning["slot_id"]).status_code == 409
    assert api.dispense(evening["slot_id"], supervised=False).status_code == 409
    assert [i["status"] for i in parts(api, site.id, MONDAY, patient.id)] == ["dispensed", "dispensed"]


def test_a_day_counts_as_missed_only_when_no_part_was_given(api, factory):
    site, patient = two_window_site(factory), factory.patient()
    expect(split_order(api, patient.id, site.id), 200)
    # Monday: only the evening part; Tuesday: only the morning part; then three days without any.
    _, evening = parts(api, site.id, MONDAY, patient.id)
    expect(api.dispense(evening["slot_id"], supervised=False), 201)
    api.clock.set(day(1))
    morning, _ = parts(api, site.id, day(1), patient.id)
    expect(api.dispense(morning["slot_id"]), 201)
    api.clock.set(day(2))
    assert all(i["missed_consecutive"] == 0 for i in parts(api, site.id, day(2), patient.id))
    for offset in (2, 3, 4):
        api.clock.set(day(offset) + timedelta(days=0))
        for line in parts(api, site.id, day(offset), patient.id):
            api.post(f"/slots/{line['slot_id']}/no-show", api.factory.nurse, json={"reason": "kom ikke"})
    api.clock.set(day(5))
    lines = parts(api, site.id, day(5), patient.id)
    assert [i["missed_consecutive"] for i in lines] == [3, 3]
    assert all(i["blocked_reason"] for i in lines)


def test_take_home_days_cover_each_part_with_its_own_dose(api, factory, session):
    from dispensing.models import Dispense

    site, patient = two_window_site(factory), factory.patient()
    expect(split_order(api, patient.id, site.id, pickup_weekdays=[0, 3]), 200)
    morning, evening = parts(api, site.id, MONDAY, patient.id)
    assert morning["take_home_days"] == 2 and evening["take_home_days"] == 2  # Tuesday and Wednesday
    m = expect(api.dispense(morning["slot_id"]), 201)
    e = expect(api.dispense(evening["slot_id"], supervised=False), 201)
    assert (m["total_mg"], e["total_mg"]) == ("60", "30")
    assert session.get(Dispense, m["dispense_id"]).covers == session.get(Dispense, e["dispense_id"]).covers
    api.clock.set(day(1))
    assert [i["status"] for i in parts(api, site.id, day(1), patient.id)] == ["covered", "covered"]
    label = api.get(f"/dispenses/{e['dispense_id']}/label.pdf", api.factory.nurse)
    assert label.status_code == 200 and label.content.startswith(b"%PDF")


def test_bad_splits_are_422(api, factory):
    site, patient = two_window_site(factory), factory.patient()
    cases = {
        "order.split_sum": [{"time": "08:00", "dose_mg": "20"}, {"time": "20:00", "dose_mg": "5"}],
        "order.split_same_time": [{"time": "08:00", "dose_mg": "20"}, {"time": "08:00", "dose_mg": "10"}],
        "order.split_one_part": [{"time": "08:00", "dose_mg": "30"}],
    }
    for code, doses in cases.items():
        assert expect(split_order(api, patient.id, site.id, doses=doses), 422)["code"] == code
    steps = [{"from_date": "2026-03-09", "dose_mg": "25"}]
    assert expect(split_order(api, patient.id, site.id, steps=steps), 422)["code"] == "order.split_with_steps"
    assert expect(api.get(f"/patients/{patient.id}/prescriptions", factory.doctor), 200) == []


def test_revising_the_dose_drops_the_split_unless_given_again(api, factory):
    site, patient = two_window_site(factory), factory.patient()
    order = expect(split_order(api, patient.id, site.id), 200)
    same = {"effective_date": MONDAY.isoformat(), "reason": "new site", "indication": "opioid dependence"}
    kept = expect(api.post(f"/prescriptions/{order['id']}/revise", factory.doctor, json=same), 201)
    assert len(kept["doses"]) == 2
    changed = same | {"dose_mg": "25"}
    r = expect(api.post(f"/prescriptions/{order['id']}/revise", factory.doctor, json=changed), 201)
    assert r["doses"] == []
