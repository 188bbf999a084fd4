"""Enumerations shared by the domain, the database and the API."""

from enum import StrEnum


class Drug(StrEnum):
    METHADONE = "methadone"
    BUPRENORPHINE = "buprenorphine"
    BUPRENORPHINE_NALOXONE = "buprenorphine_naloxone"
    DISULFIRAM = "disulfiram"
    ACAMPROSATE = "acamprosate"

    @property
    def is_opioid(self) -> bool:
        """Controlled substitution medicine (A§4): every mg accounted for."""
        return self in OPIOIDS


OPIOIDS = frozenset({Drug.METHADONE, Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE})


class Role(StrEnum):
    NURSE = "nurse"
    DOCTOR = "doctor"
    ADMIN = "admin"
    SITE_STAFF = "site_staff"


class SiteKind(StrEnum):
    CLINIC = "clinic"
    PHARMACY = "pharmacy"
    POLICE = "police"
    HOME_NURSING = "home_nursing"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class SanctionStep(StrEnum):
    """In rising order (seeds): daily pickup only, pickup at the police station, termination."""

    DAILY_PICKUP = "daily_pickup"
    POLICE_PICKUP = "police_pickup"
    TERMINATION = "termination"
