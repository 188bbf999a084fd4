"""Special groups (DOMAIN.md rule 11): minors' consent, and the flags the window must see."""

from datetime import date

from dispensing.messages import Message

ADULT_AGE = 18
OWN_CONSENT_AGE = 15


def age_on(birth_date: date, day: date) -> int:
    """Completed years on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def consent_problem(
    birth_date: date, day: date, parental_consent_on: date | None, own_consent_on: date | None
) -> Message | None:
    """Why treatment of a minor may not start on `day`, or None."""
    age = age_on(birth_date, day)
    if age >= ADULT_AGE:
        return None
    missing = []
    if parental_consent_on is None or parental_consent_on > day:
        missing.append(Message("consent.parents"))
    if age >= OWN_CONSENT_AGE and (own_consent_on is None or own_consent_on > day):
        missing.append(Message("consent.own"))
    if not missing:
        return None
    return Message("consent.minor_missing", age=age, day=day, missing=missing)


def patient_flags(*, birth_date: date, day: date, pregnant: bool, children_at_home: bool) -> list[str]:
    """What the window and the doctor must notice about this patient today."""
    flags = []
    if age_on(birth_date, day) < ADULT_AGE:
        flags.append("under_18")
    if pregnant:
        flags.append("pregnant")  # close cooperation with the family outpatient clinic
    if children_at_home:
        flags.append("children_at_home")  # urine tests; duty to notify (SEL §153)
    return flags
