"""A demo clinic: sites with windows, staff, patients on each drug, signed orders (a split dose
and a taper among them), controlled stock received, a staff day closed, and a dose withheld today for the desk.

Loaded through the same use cases as real work (so it is audited and obeys every rule).
"""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispensing.config import Settings
from dispensing.enums import Drug, Role, SiteKind
from dispensing.models import User
from dispensing.rules.split import Part
from dispensing.rules.steps import Step
from dispensing.services import calendar, prescriptions, sites, stock
from dispensing.services.context import Ctx
from dispensing.services.dispense import dispense
from dispensing.services.patients import register_patient
from dispensing.services.roster import build_roster
from dispensing.services.users import create_user

OPIOIDS_AND_CAMPRAL = (Drug.METHADONE, Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE, Drug.ACAMPROSATE)
WEEKDAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
TRANSFER = "Kendt tolerance: overført fra behandling i anden kommune (dosis bekræftet)."

USERS = [
    # username, password, role, full name, prescribing right, site key
    ("admin", "demo-admin-2026", Role.ADMIN, "Birthe Admin", False, None),
    ("laege", "demo-laege-2026", Role.DOCTOR, "Dr. Mette Sørensen", True, None),
    ("laege2", "demo-laege2-2026", Role.DOCTOR, "Dr. Ole Winther (uden §41-ret)", False, None),
    ("sygeplejerske", "demo-sypl-2026", Role.NURSE, "Anne Østergaard", False, "clinic"),
    ("sygeplejerske2", "demo-sypl2-2026", Role.NURSE, "Jørgen Ålund", False, "clinic"),
    ("apotek", "demo-apotek-2026", Role.SITE_STAFF, "Farmakonom Lise Bæk", False, "pharmacy"),
]

PATIENTS = [
    # cpr, name, children at home, pregnant, weight
    ("1503751235", "Jens Ærø Hansen", False, False, "82"),
    ("2208881412", "Søren Østergaard", True, False, "74"),
    ("0101901228", "Mette Ågård", False, False, "61"),
    ("3112791233", "Lars Bøgh", False, False, "90"),
    ("1206651124", "Karen Dahl", False, False, "58"),
    ("0707701111", "Peter Nørgaard", False, False, "88"),
    ("1409951240", "Anna Kjær", True, True, "66"),
    ("2502851349", "Niels Ravn", False, False, "77"),
]


def load_demo(session: Session, settings: Settings, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Load the demo clinic into an empty database; returns the logins, or [] if data exists."""
    if session.execute(select(User.id).limit(1)).first():
        return []
    now = now or datetime.now(UTC)
    secret = settings.resolved_secret()
    system = Ctx(session=session, actor=None, now=now, tz=settings.tz, secret=secret)
    admin = create_user(system, username="admin", password=USERS[0][1], role=Role.ADMIN, full_name=USERS[0][3])
    as_admin = Ctx(session=session, actor=admin, now=now, tz=settings.tz, secret=secret)

    clinic = sites.create_site(
        as_admin,
        name="Rusmiddelcenter Aalborg – Sundhedsklinikken",
        kind=SiteKind.CLINIC,
        address="Vesterbro 14, 9000 Aalborg",
    )
    pharmacy = sites.create_site(
        as_admin, name="Løve Apotek Aalborg", kind=SiteKind.PHARMACY, address="Algade 45, 9000 Aalborg"
    )
    police = sites.create_site(
        as_admin, name="Aalborg Politistation", kind=SiteKind.POLICE, address="Jyllandsgade 27, 9000 Aalborg"
    )
    home = sites.create_site(
        as_admin,
        name="Hjemmesygeplejen Aalborg Øst",
        kind=SiteKind.HOME_NURSING,
        address="Øster Uttrup Vej 1, 9220 Aalborg Øst",
    )
    W = sites.WindowSpec
    windows = [W(d, time(8, 0), time(10, 0), OPIOIDS_AND_CAMPRAL) for d in WEEKDAYS]
    windows += [W(d, time(13, 0), time(14, 0), OPIOIDS_AND_CAMPRAL) for d in WEEKDAYS]
    windows += [W(d, time(9, 0), time(10, 0), OPIOIDS_AND_CAMPRAL) for d in (5, 6)]
    # Antabus: Mondays 14:30-16:00, Thursdays 08:30-10:30 and 14:30-16:00 (the example)
    windows += [
        W(0, time(14, 30), time(16, 0), (Drug.DISULFIRAM,)),
        W(3, time(8, 30), time(10, 30), (Drug.DISULFIRAM,)),
        W(3, time(14, 30), time(16, 0), (Drug.DISULFIRAM,)),
    ]
    sites.set_windows(as_admin, clinic.id, windows)
    sites.set_windows(as_admin, pharmacy.id, [W(d, time(9, 0), time(17, 30)) for d in WEEKDAYS])
    sites.set_windows(as_admin, police.id, [W(d, time(10, 0), time(11, 0)) for d in EVERY_DAY])
    sites.set_windows(as_admin, home.id, [W(d, time(7, 0), time(9, 0)) for d in EVERY_DAY])
    site_ids = {"clinic": clinic.id, "pharmacy": pharmacy.id}

    staff = {"admin": admin}
    for username, password, role, full_name, right, site_key in USERS[1:]:
        staff[username] = create_user(
            as_admin,
            username=username,
            password=password,
            role=role,
            full_name=full_name,
            can_prescribe_addictive=right,
            site_id=site_ids.get(site_key),
            authorisation_id="DEMO-0042" if right else None,
        )
    nurse = Ctx(session=session, actor=staff["sygeplejerske"], now=now, tz=settings.tz, secret=secret)
    patients = [
        register_patient(nurse, cpr=cpr, name=name, children_at_home=kids, pregnant=preg, weight_kg=Decimal(w))
        for cpr, name, kids, preg, w in PATIENTS
    ]

    doctor = Ctx(session=session, actor=staff["laege"], now=now, tz=settings.tz, secret=secret)
    today = doctor.today
    T = prescriptions.OrderTerms
    orders = [
        (
            patients[0],
            T(
                Drug.METHADONE,
                Decimal("60"),
                clinic.id,
                today,
                "Opioidafhængighed",
                product="methadone-oral-1",
                override_reason=TRANSFER,
                # A signed taper: 5 mg less every week for two weeks.
                steps=(Step(today + timedelta(days=7), Decimal("55")), Step(today + timedelta(days=14), Decimal("50"))),
            ),
        ),
        (
            patients[1],
            T(
                Drug.METHADONE,
                Decimal("80"),
                clinic.id,
                today,
                "Opioidafhængighed, stabil",
                product="methadone-oral-1",
                pickup_weekdays=(0, 3),
                override_reason=TRANSFER,
            ),
        ),
        (
            patients[2],
            T(Drug.BUPRENORPHINE, Decimal("16"), clinic.id, today, "Opioidafhængighed", product="subutex-sl"),
        ),
        (patients[3], T(Drug.BUPRENORPHINE_NALOXONE, Decimal("8"), clinic.id, today, "Opioidafhængighed")),
        (patients[4], T(Drug.DISULFIRAM, Decimal("800"), clinic.id, today, "Alkoholafhængighed", weekdays=(0, 3))),
        (
            patients[5],
            T(
                Drug.ACAMPROSATE,
                Decimal("1998"),
                clinic.id,
                today,
                "Alkoholafhængighed, ≥60 kg: 2+2+2",
                pickup_weekdays=(0,),
                supervised=False,
            ),
        ),
        (
            patients[6],
            T(
                Drug.METHADONE,
                Decimal("40"),
                clinic.id,
                today,
                "Opioidafhængighed, gravid (familieambulatoriet)",
                product="methadone-oral-1",
                override_reason=TRANSFER,
            ),
        ),
        (
            patients[7],
            T(
                Drug.METHADONE,
                Decimal("70"),
                pharmacy.id,
                today,
                "Opioidafhængighed, stabil",
                product="methadone-oral-10",
                pickup_weekdays=(0, 2, 4),
                override_reason=TRANSFER,
            ),
        ),
    ]
    for patient, terms in orders:
        order = prescriptions.create_order(doctor, patient.id, terms)
        prescriptions.sign_order(doctor, order.id, USERS[1][1])

    # One patient whose order began five days ago and who has not come since: the window
    # shows the missed-dose block and the doctor's list shows it for review.
    past = Ctx(session=session, actor=staff["laege"], now=now - timedelta(days=5), tz=settings.tz, secret=secret)
    absent = register_patient(nurse, cpr="0304801357", name="Bo Fraværende", weight_kg=Decimal("70"))
    order = prescriptions.create_order(
        past,
        absent.id,
        T(Drug.METHADONE, Decimal("50"), clinic.id, past.today, "Opioidafhængighed", override_reason=TRANSFER),
    )
    prescriptions.sign_order(past, order.id, USERS[1][1])

    # The clinic's controlled stock, received by a nurse with a second nurse as witness (rule 16).
    witness = stock.Witness("sygeplejerske2", USERS[4][1])
    for product, quantity in (("methadone-oral-1", "5000"), ("methadone-oral-10", "1000"), ("subutex-sl-8", "200")):
        stock.receive(
            nurse,
            clinic.id,
            product=product,
            quantity=quantity,
            batch="DEMO-2026",
            expiry=today + timedelta(days=365),
            supplier="Sygehusapoteket",
            witness=witness,
        )
    # A staff day besides the public holidays (rule 17): the closure plan says how each dose is covered.
    calendar.set_closures(as_admin, clinic.id, [(today + timedelta(days=10), "Personaledag")])
    # Late pregnancy: the day's dose split, the morning part watched, the evening part taken home (rule 18).
    split = register_patient(nurse, cpr="2109931226", name="Maja Todel", pregnant=True, weight_kg=Decimal("68"))
    parts = (Part(time(8, 0), Decimal("30"), True), Part(time(20, 0), Decimal("20"), False))
    order = prescriptions.create_order(
        doctor,
        split.id,
        T(Drug.METHADONE, Decimal("50"), clinic.id, today, "Gravid: delt dosis", parts=parts, override_reason=TRANSFER),
    )
    prescriptions.sign_order(doctor, order.id, USERS[1][1])
    # One more patient, sent away today with a breath reading over the limit.
    sent_away = register_patient(nurse, cpr="1111821238", name="Kim Alkometer", weight_kg=Decimal("80"))
    order = prescriptions.create_order(
        doctor,
        sent_away.id,
        T(Drug.METHADONE, Decimal("45"), clinic.id, today, "Opioidafhængighed", override_reason=TRANSFER),
    )
    prescriptions.sign_order(doctor, order.id, USERS[1][1])
    _withheld_for_the_desk(nurse, clinic.id, sent_away.id)
    return [(u, p, r.value) for u, p, r, *_ in USERS]


def _withheld_for_the_desk(nurse: Ctx, clinic_id: int, patient_id: int) -> None:
    """A dose withheld at the window today (breath over the limit): the doctor's desk shows the flag and
    can re-open the slot when the patient comes back sober (rule 13). Not on a day the clinic is closed."""
    for entry in build_roster(nurse, clinic_id, nurse.today):
        if entry.slot.patient_id == patient_id:
            dispense(
                nurse,
                entry.slot.id,
                breath_promille=Decimal("0.90"),
                supervised=True,
                take_home_days=None,
                outside_window_reason="Demo: registreret ved indlæsning",
            )
            return
