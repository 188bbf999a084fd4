"""The effective arrangement of an order under sanctions (rule 8), at its edges and by property."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispensing.enums import SanctionStep
from dispensing.rules.arrangement import SanctionTerms, effective_arrangement

DAY = date(2026, 3, 2)
CLINIC, POLICE, POLICE2 = 1, 50, 51
EVERY_DAY = frozenset(range(7))


def plan(sanctions, day=DAY, pickup=frozenset({0, 3})):
    return effective_arrangement(
        site_id=CLINIC, weekdays=EVERY_DAY, pickup_weekdays=pickup, supervised=False, sanctions=sanctions, day=day
    )


def test_without_sanctions_the_order_decides():
    p = plan([])
    assert (p.site_id, p.pickup_weekdays, p.supervised, p.in_force) == (CLINIC, frozenset({0, 3}), False, ())


def test_daily_pickup_in_force_removes_take_home_and_requires_supervision():
    s = SanctionTerms(SanctionStep.DAILY_PICKUP, DAY, None)
    p = plan([s])
    assert p.pickup_weekdays == EVERY_DAY and p.supervised and p.no_take_home_because == s


def test_a_sanction_acts_from_its_first_day_to_its_last_and_not_a_day_outside():
    s = SanctionTerms(SanctionStep.POLICE_PICKUP, DAY, DAY + timedelta(days=6), site_id=POLICE)
    assert plan([s], DAY - timedelta(days=1)).site_id == CLINIC
    assert plan([s], DAY).site_id == POLICE
    assert plan([s], DAY + timedelta(days=6)).site_id == POLICE
    assert plan([s], DAY + timedelta(days=7)).site_id == CLINIC  # lifted: the order's own site returns


def test_the_newest_police_decision_names_the_station():
    old = SanctionTerms(SanctionStep.POLICE_PICKUP, DAY - timedelta(days=10), None, site_id=POLICE, id=1)
    new = SanctionTerms(SanctionStep.POLICE_PICKUP, DAY - timedelta(days=2), None, site_id=POLICE2, id=2)
    assert plan([old, new]).site_id == POLICE2 == plan([new, old]).site_id


def test_termination_ends_treatment_from_its_date():
    s = SanctionTerms(SanctionStep.TERMINATION, DAY + timedelta(days=1), None)
    assert not plan([s]).treatment_ended
    assert plan([s], DAY + timedelta(days=1)).treatment_ended


sanction = st.builds(
    SanctionTerms,
    step=st.sampled_from(list(SanctionStep)),
    starts_on=st.dates(DAY - timedelta(days=30), DAY + timedelta(days=30)),
    ends_on=st.one_of(st.none(), st.dates(DAY - timedelta(days=30), DAY + timedelta(days=60))),
    site_id=st.sampled_from([POLICE, POLICE2]),
    id=st.integers(1, 10**6),
)
weekday_sets = st.frozensets(st.integers(0, 6), min_size=1)


@given(
    st.lists(sanction, max_size=5, unique_by=lambda s: s.id),
    st.dates(DAY - timedelta(days=40), DAY + timedelta(days=70)),
    weekday_sets,
)
def test_overlapping_sanctions_never_add_take_home_and_their_order_does_not_matter(sanctions, day, pickup):
    p = plan(sanctions, day, pickup)
    assert p.pickup_weekdays >= pickup  # sanctions only ever add pickup days (fewer take-home days)
    assert p == plan(list(reversed(sanctions)), day, pickup)
    in_force = [s for s in sanctions if s.in_force(day)]
    assert set(p.in_force) == set(in_force)
    if not in_force:
        assert (p.site_id, p.pickup_weekdays, p.supervised) == (CLINIC, pickup, False)
    if any(s.step == SanctionStep.DAILY_PICKUP for s in in_force):
        assert p.pickup_weekdays == EVERY_DAY and p.supervised
    assert (p.site_id != CLINIC) == any(s.step == SanctionStep.POLICE_PICKUP for s in in_force)


@given(st.lists(sanction, max_size=5), st.dates(DAY - timedelta(days=40), DAY + timedelta(days=70)))
def test_once_every_sanction_has_ended_the_orders_own_arrangement_returns(sanctions, day):
    ended = [
        SanctionTerms(s.step, s.starts_on, min(s.ends_on or day, day) - timedelta(days=1), s.site_id, id=s.id)
        for s in sanctions
    ]
    p = plan(ended, day)
    assert (p.site_id, p.pickup_weekdays, p.supervised, p.in_force) == (CLINIC, frozenset({0, 3}), False, ())


@given(
    st.lists(sanction, max_size=5, unique_by=lambda s: s.id),
    st.dates(DAY - timedelta(days=40), DAY + timedelta(days=70)),
)
def test_the_arrangement_holds_until_changes_on_and_changes_there(sanctions, day):
    p = plan(sanctions, day)
    horizon = p.changes_on or day + timedelta(days=30)
    for k in range(1, (horizon - day).days):
        q = plan(sanctions, day + timedelta(days=k))
        assert (q.site_id, q.pickup_weekdays, q.supervised, q.in_force) == (
            p.site_id,
            p.pickup_weekdays,
            p.supervised,
            p.in_force,
        )
    if p.changes_on is not None:
        assert plan(sanctions, p.changes_on).in_force != p.in_force
