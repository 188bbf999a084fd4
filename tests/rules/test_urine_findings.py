"""rules/urine_findings: what the prescribed drugs explain in a sample, the washout, side abuse."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispensing.enums import Drug
from dispensing.rules.urine_findings import PANEL, WASHOUT_DAYS, explains_sample, side_abuse

SAMPLE = date(2026, 3, 10)
results = st.dictionaries(st.sampled_from(list(PANEL)), st.sampled_from(["neg", "pos"]))
drugs = st.sets(st.sampled_from(list(Drug)))


def test_the_prescribed_substance_is_no_side_abuse_but_opiates_always_are():
    found = side_abuse({"methadone": "pos", "opioids": "pos", "cocaine": "neg"}, {Drug.METHADONE})
    assert found == ["opioids"]
    assert side_abuse({"buprenorphine": "pos"}, {Drug.BUPRENORPHINE_NALOXONE}) == []
    assert side_abuse({"buprenorphine": "pos"}, {Drug.METHADONE}) == ["buprenorphine"]


@given(results, drugs)
def test_findings_are_positives_in_panel_order(res, prescribed):
    found = side_abuse(res, prescribed)
    assert all(res[k] == "pos" for k in found)
    assert found == [k for k in PANEL if k in found]
    if not prescribed:
        assert found == [k for k in PANEL if res.get(k) == "pos"]


@given(results, drugs, drugs)
def test_more_prescriptions_never_add_a_finding(res, some, more):
    assert set(side_abuse(res, some | more)) <= set(side_abuse(res, some))


@given(results, drugs)
def test_opiates_are_never_explained(res, prescribed):
    assert ("opioids" in side_abuse(res, prescribed)) is (res.get("opioids") == "pos")


def test_washout_edges():
    start = SAMPLE - timedelta(days=60)
    assert explains_sample(start, None, SAMPLE)  # open order
    assert explains_sample(start, SAMPLE - timedelta(days=WASHOUT_DAYS), SAMPLE)  # last day of the washout
    assert not explains_sample(start, SAMPLE - timedelta(days=WASHOUT_DAYS + 1), SAMPLE)
    assert not explains_sample(SAMPLE + timedelta(days=1), None, SAMPLE)  # begins after the sample
    assert explains_sample(SAMPLE, SAMPLE, SAMPLE)


@given(st.integers(-30, 30), st.one_of(st.none(), st.integers(-30, 30)))
def test_an_order_explains_a_sample_iff_begun_and_within_the_washout(start_off, last_off):
    start = SAMPLE + timedelta(days=start_off)
    last = None if last_off is None else start + timedelta(days=last_off)
    expected = start <= SAMPLE and (last is None or (last >= start and (SAMPLE - last).days <= WASHOUT_DAYS))
    assert explains_sample(start, last, SAMPLE) is expected
