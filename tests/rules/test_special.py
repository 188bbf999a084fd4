"""Minors' consent and patient flags (rule 11) at their age edges."""

from datetime import date

from dispensing.rules.special import age_on, consent_problem, patient_flags

DAY = date(2026, 3, 2)


def test_age_turns_on_the_birthday_and_leap_day_birthdays_count_from_1_march():
    assert age_on(date(2008, 3, 2), DAY) == 18 and age_on(date(2008, 3, 3), DAY) == 17
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17 and age_on(date(2008, 2, 29), DAY) == 18


def test_adults_need_no_consent():
    assert consent_problem(date(2008, 3, 2), DAY, None, None) is None


def test_under_15_needs_the_parents_consent_only():
    birth = date(2012, 1, 1)  # 14
    assert "parents" in consent_problem(birth, DAY, None, None)
    assert consent_problem(birth, DAY, date(2026, 2, 1), None) is None


def test_15_to_17_need_both_consents_given_by_the_day():
    birth = date(2011, 3, 2)  # 15 today
    assert "own consent" in consent_problem(birth, DAY, date(2026, 2, 1), None)
    assert "parents" in consent_problem(birth, DAY, None, date(2026, 2, 1))
    assert consent_problem(birth, DAY, date(2026, 2, 1), date(2026, 3, 2)) is None
    assert consent_problem(birth, DAY, date(2026, 2, 1), date(2026, 3, 3)) is not None  # given after the day


def test_flags():
    assert patient_flags(birth_date=date(2010, 1, 1), day=DAY, pregnant=True, children_at_home=True) == [
        "under_18",
        "pregnant",
        "children_at_home",
    ]
    assert patient_flags(birth_date=date(1980, 1, 1), day=DAY, pregnant=False, children_at_home=False) == []
