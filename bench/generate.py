"""A region's data for the benchmarks: N patients (one clinic per 500), one year of history.

Staff, sites and windows are made through the real services; so are the urine-test plans in
force today. Patients, signed orders and the year of history are bulk-inserted (COPY on
PostgreSQL, executemany on SQLite), with each value stored through SQLAlchemy's own bind
processors, so the rows are what the services would have written. The history keeps the
services' invariants:

- one slot per (patient, drug, day); a slot points at the order version governing its day;
- orders are signed like sign_order signs them (HMAC over signed_content), so they verify;
  a revision supersedes its predecessor from its effective date; some orders are
  discontinued, some patients end treatment after a termination sanction;
- a take-home dispense covers the following due days up to the next pickup day (at most the
  policy's 14 days; never past the order's last day), whose slots are `covered` by it; a
  covered day has no dispense of its own; doses for a pharmacy, home nursing or a police
  station are prepared the day before and handed out there;
- no-shows are runs of missed days; after 3 or more missed opioid days in a row the next dose
  comes only after a doctor's release, with the block alert and the missed-pickups breach the
  roster records; Antabus always has a breath reading, opioids sometimes; a reading over the
  threshold withholds the dose (slot withheld, alert);
- sanctions (daily pickup, police pickup, termination) with their breach and meeting change
  the arrangement while in force;
- patients with children at home and an opioid order give urine samples every 3-12 weeks
  (side abuse findings raise an alert; a refusal is a breach).

The benchmark's "today" (TODAY, a Monday) is the day after the generated year; nothing of
today exists yet except the slots that earlier take-home dispenses covered. The audit log
holds only what the services wrote (staff, sites, urine plans), not the bulk history.

Fixed seed: the same arguments give the same data.
"""

import random
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from dispensing import security
from dispensing.db import make_session_factory, transaction
from dispensing.enums import OPIOIDS, Drug, Role, SanctionStep, SiteKind
from dispensing.models import (
    AlertKind,
    Base,
    BreachKind,
    DispenseStatus,
    OrderStatus,
    Prescription,
    SlotStatus,
    UrineOutcome,
    User,
    weekdays_to_str,
)
from dispensing.rules.arrangement import SanctionTerms, effective_arrangement
from dispensing.rules.schedule import take_home_dates
from dispensing.services import sites
from dispensing.services.context import Ctx
from dispensing.services.prescriptions import signed_content
from dispensing.services.urine import urine_due_today
from dispensing.services.users import create_user

TZ = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 11, 23)  # a Monday: the benchmark's today, the day after the generated year
SECRET = b"bench-region-secret-not-for-production-0001"
PASSWORD = "bench-password-2026"
SEED = 20261123
PATIENTS_PER_CLINIC = 500
PHARMACY_PATIENTS = 80  # methadone, pickups Monday and Thursday: 3 labels each to prepare on a Monday
HOME_NURSING_PATIENTS = 20
TAKE_HOME_MAX = 14  # the policy default (DOMAIN rule 5)
BLOCK_AFTER = 3  # the policy default (DOMAIN rule 4)
CHUNK = 400  # patients simulated and inserted per transaction
GENERATOR_VERSION = 3  # bump when the generated data changes (invalidates cached databases)

CITIES = [
    "Aalborg",
    "Aarhus",
    "Odense",
    "Esbjerg",
    "Randers",
    "Kolding",
    "Horsens",
    "Vejle",
    "Roskilde",
    "Herning",
    "Silkeborg",
    "Næstved",
    "Fredericia",
    "Viborg",
    "Køge",
    "Holstebro",
    "Slagelse",
    "Hillerød",
    "Sønderborg",
    "Svendborg",
    "Hjørring",
    "Frederikshavn",
    "Nørresundby",
    "Ringsted",
]
FIRST = [
    "Søren",
    "Bjørn",
    "Åse",
    "Mads",
    "Jens",
    "Mette",
    "Kåre",
    "Ida",
    "Ørjan",
    "Anne-Mette",
    "Frederik",
    "Lars",
    "Karen",
    "Peter",
    "Anna",
    "Niels",
    "Bo",
    "Jørgen",
    "Birthe",
    "Ole",
    "Lise",
    "Henrik",
    "Camilla",
    "Rasmus",
    "Signe",
    "Thomas",
    "Maja",
    "Kasper",
    "Line",
    "Mikkel",
]
LAST = [
    "Østergaard",
    "Jørgensen",
    "Kjærsgaard",
    "Bækgaard",
    "Holm-Sørensen",
    "Ågård",
    "Nielsen",
    "Møller",
    "Læssøe",
    "Hansen",
    "Sønderskov",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Rasmussen",
    "Poulsen",
    "Thomsen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Knudsen",
    "Mortensen",
    "Dahl",
    "Ravn",
]
PANEL = (
    "opioids",
    "methadone",
    "buprenorphine",
    "benzodiazepines",
    "cannabis",
    "cocaine",
    "amphetamine",
    "alcohol_etg",
)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
OPIOIDS_AND_CAMPRAL = (Drug.METHADONE, Drug.BUPRENORPHINE, Drug.BUPRENORPHINE_NALOXONE, Drug.ACAMPROSATE)
INDICATION = {
    Drug.METHADONE: "Opioidafhængighed (F11.2)",
    Drug.BUPRENORPHINE: "Opioidafhængighed (F11.2)",
    Drug.BUPRENORPHINE_NALOXONE: "Opioidafhængighed (F11.2)",
    Drug.DISULFIRAM: "Alkoholafhængighed (F10.2)",
    Drug.ACAMPROSATE: "Alkoholafhængighed, ≥60 kg: 2+2+2",
}
PRODUCT = {
    Drug.METHADONE: "methadone-oral-1",
    Drug.BUPRENORPHINE: "subutex-sl",
    Drug.BUPRENORPHINE_NALOXONE: "suboxone",
    Drug.DISULFIRAM: "antabus",
    Drug.ACAMPROSATE: "campral",
}
TRANSFER = "Kendt tolerance: overført fra behandling i anden kommune (dosis bekræftet)."


def layout(patients: int) -> dict[str, int]:
    """How many sites of each kind a region of this size has (one clinic per 500 patients)."""
    clinics = max(1, round(patients / PATIENTS_PER_CLINIC))
    return {
        "clinics": clinics,
        "pharmacies": max(1, clinics // 5),
        "police": max(1, clinics // 10),
        "home_nursing": max(1, clinics // 10),
    }


# --- bulk insertion -------------------------------------------------------------------------------


class Loader:
    """Inserts many rows fast, each value stored exactly as the ORM would store it."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self.postgres = engine.dialect.name == "postgresql"
        self.rows = 0
        self._processors: dict[tuple[str, str], Callable | None] = {}

    def _processor(self, table: str, column: str) -> Callable | None:
        """The column type's own bind processor (enum values, dates on SQLite, JSON, UTC timestamps),
        memoised per value: the same dates and times recur millions of times."""
        key = (table, column)
        if key not in self._processors:
            proc = Base.metadata.tables[table].c[column].type._cached_bind_processor(self.dialect)
            self._processors[key] = proc and _memoised(proc)
        return self._processors[key]

    def insert(self, conn, table: str, columns: Sequence[str], rows: list[Sequence]) -> None:
        if not rows:
            return
        if len(rows[0]) != len(columns):
            raise RuntimeError(
                f"generate.py builds {len(rows[0])} values per {table} row; the model has {len(columns)} columns "
                f"to fill ({', '.join(columns)}): generate the new column, or add it to LEFT_EMPTY"
            )
        active = [(i, p) for i, p in enumerate(self._processor(table, c) for c in columns) if p]
        if active:
            converted = []
            for row in rows:
                row = list(row)
                for i, proc in active:
                    if row[i] is not None:
                        row[i] = proc(row[i])
                converted.append(row)
            rows = converted
        raw = conn.connection.driver_connection
        names = ", ".join(columns)
        if self.postgres:
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)
        self.rows += len(rows)


def _memoised(proc: Callable) -> Callable:
    cache: dict = {}

    def process(value):
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = proc(list(value) if isinstance(value, tuple) else value)
            return result
        except TypeError:  # unhashable (a dict of urine results)
            return proc(value)

    return process


@contextmanager
def bulk_transaction(engine: Engine) -> Iterator:
    """A transaction with foreign-key enforcement off, as bulk loads do (PostgreSQL checks each row
    with a query otherwise); check_foreign_keys() verifies every reference once at the end."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        if engine.dialect.name == "sqlite":
            raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, where SQLite honours it
            try:
                with conn.begin():
                    yield conn
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
        else:
            with conn.begin():
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # FK triggers off
                yield conn


def check_foreign_keys(engine: Engine, tables: Iterable[str]) -> None:
    """Every reference of the bulk-loaded rows points at an existing row."""
    with engine.connect() as conn:
        for name in tables:
            for fk in Base.metadata.tables[name].foreign_keys:
                child, parent = fk.parent, fk.column
                broken = conn.execute(
                    text(
                        f"SELECT count(*) FROM {name} c LEFT JOIN {parent.table.name} p "
                        f"ON p.{parent.name} = c.{child.name} "
                        f"WHERE c.{child.name} IS NOT NULL AND p.{parent.name} IS NULL"
                    )
                ).scalar()
                if broken:
                    raise RuntimeError(f"{broken} rows of {name}.{child.name} point at no {parent.table.name} row")


class Ids:
    """Explicit ids per table (bulk rows reference each other before they are inserted)."""

    def __init__(self, conn, tables: Iterable[str]) -> None:
        self.next = {
            t: (conn.execute(select(func.max(Base.metadata.tables[t].c.id))).scalar() or 0) + 1 for t in tables
        }

    def __call__(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


# The tables the generator fills, and the columns it leaves empty (NULL) in them. Every other column
# comes from the models' metadata, in its order: the generator builds each row as a tuple in that
# order, and Loader.insert refuses a row of another length (a column added to a model must be
# generated here, or named as left empty).
LEFT_EMPTY: dict[str, tuple[str, ...]] = {
    "patients": ("first_contact_on", "parental_consent_on", "own_consent_on"),
    "prescriptions": ("dose_steps", "dose_parts"),  # no generated order has a schedule or a split dose
    "agreements": (),
    "sanctions": (),
    "breaches": ("note_code", "note_params"),  # the generated breaches are not automatic: no coded note
    "slots": (),
    "breath_tests": (),
    "dispenses": (
        "void_reason",
        "returned_by_id",
        "returned_at",
        "return_reason",
        "voided_by_id",
        "voided_at",
        "void_witness_id",  # corrections at the window: a handed-over dose voided before a witness
        "outside_window_reason",  # and one handed out outside every window
    ),
    "alerts": ("site_id", "code", "params"),  # site alerts of the stock ledger are not generated
    "block_releases": (),
    "urine_tests": (),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(c.name for c in Base.metadata.tables[table].columns if c.name not in empty)
    for table, empty in LEFT_EMPTY.items()
}
# Insert order inside a chunk: a covered slot references its dispense, which references its own slot.
CHUNK_TABLES = (
    "slots",
    "breath_tests",
    "dispenses",
    "covered_slots",
    "alerts",
    "block_releases",
    "breaches",
    "urine_tests",
)


# --- the plan of one patient's treatment ----------------------------------------------------------


@dataclass
class Version:
    id: int
    start: date
    dose: Decimal
    weekdays: tuple[int, ...]
    pickup: tuple[int, ...]
    supervised: bool
    site_id: int
    last_day: date | None = None  # set when the chain is complete


@dataclass
class Course:
    patient_id: int
    drug: Drug
    site_id: int
    course_start: date
    children: bool
    versions: list[Version] = field(default_factory=list)
    ended_on: date | None = None  # last day of treatment (discontinued or planned end)
    sanctions: list[SanctionTerms] = field(default_factory=list)


class Region:
    """Generates one region into an empty, migrated database."""

    def __init__(
        self,
        engine: Engine,
        patients: int,
        *,
        seed: int = SEED,
        history_days: int = 365,
        log: Callable[[str], None] = print,
    ) -> None:
        self.engine = engine
        self.patients = patients
        self.rng = random.Random(seed)
        self.start = TODAY - timedelta(days=history_days)  # first day of the history
        self.log = log
        self.loader = Loader(engine)
        self._midnight: dict[date, datetime] = {}
        self._spans: dict[tuple, list[int]] = {}
        self.counts: dict[str, int] = {}

    # -- helpers --

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """An aware UTC instant at a local wall-clock time (cached per day: millions of calls)."""
        base = self._midnight.get(day)
        if base is None:
            base = self._midnight[day] = datetime.combine(day, time(0), tzinfo=TZ).astimezone(UTC)
            # local midnight in UTC; DST changes happen at night, so adding hours is exact enough
        return base + timedelta(hours=hour, minutes=minute)

    def ctx(self, session: Session, actor, now: datetime) -> Ctx:
        return Ctx(session=session, actor=actor, now=now, tz=TZ, secret=SECRET)

    def count(self, table: str, n: int = 1) -> None:
        self.counts[table] = self.counts.get(table, 0) + n

    # -- staff and sites, through the services --

    def staff_and_sites(self) -> None:
        shape = layout(self.patients)
        now = self.at(self.start - timedelta(days=30), 9)
        with transaction(make_session_factory(self.engine)) as s:
            admin = create_user(
                self.ctx(s, None, now),
                username="admin",
                password=PASSWORD,
                role=Role.ADMIN,
                full_name="Region Administrator",
            )
            a = self.ctx(s, admin, now)
            W = sites.WindowSpec

            def make(kind: SiteKind, name: str, windows: list[sites.WindowSpec]) -> int:
                site = sites.create_site(a, name=name, kind=kind, address=f"{name}, Danmark")
                sites.set_windows(a, site.id, windows)
                return site.id

            def city(i: int) -> str:
                return CITIES[i % len(CITIES)] + (f" {i // len(CITIES) + 1}" if i >= len(CITIES) else "")

            clinic_windows = [W(d, time(8, 0), time(11, 0)) for d in EVERY_DAY] + [
                W(d, time(13, 0), time(14, 30), OPIOIDS_AND_CAMPRAL) for d in range(5)
            ]
            self.clinics = [
                make(SiteKind.CLINIC, f"Rusmiddelcenter {city(i)} – Sundhedsklinikken", clinic_windows)
                for i in range(shape["clinics"])
            ]
            self.pharmacies = [
                make(SiteKind.PHARMACY, f"Løve Apotek {city(i)}", [W(d, time(9, 0), time(17, 30)) for d in range(5)])
                for i in range(shape["pharmacies"])
            ]
            self.police = [
                make(SiteKind.POLICE, f"{city(i)} Politistation", [W(d, time(10, 0), time(11, 0)) for d in EVERY_DAY])
                for i in range(shape["police"])
            ]
            self.home = [
                make(
                    SiteKind.HOME_NURSING,
                    f"Hjemmesygeplejen {city(i)}",
                    [W(d, time(7, 0), time(9, 0)) for d in EVERY_DAY],
                )
                for i in range(shape["home_nursing"])
            ]

            def user(username: str, role: Role, **kw) -> int:
                return create_user(
                    a,
                    username=username,
                    password=PASSWORD,
                    role=role,
                    full_name=f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}",
                    **kw,
                ).id

            self.doctors = [
                user(f"laege{i + 1}", Role.DOCTOR, can_prescribe_addictive=True, authorisation_id=f"BENCH-{i + 1:04d}")
                for i in range(max(2, len(self.clinics) // 2))
            ]
            user("laege-uden-ret", Role.DOCTOR)
            self.nurses = [
                user(f"sygeplejerske{i + 1}", Role.NURSE, site_id=self.clinics[i % len(self.clinics)])
                for i in range(max(20, 2 * len(self.clinics)))
            ]
            self.site_staff = {
                site_id: user(f"personale{site_id}", Role.SITE_STAFF, site_id=site_id)
                for site_id in self.pharmacies + self.police + self.home
            }
        self.external = set(self.pharmacies + self.police + self.home)

    # -- patients and their orders --

    def plan_courses(self, conn, ids: Ids) -> list[Course]:
        rng = self.rng
        homes: list[tuple[int, Drug | None]] = []
        for site_id in self.pharmacies:
            homes += [(site_id, Drug.METHADONE)] * PHARMACY_PATIENTS
        for site_id in self.home:
            homes += [(site_id, Drug.METHADONE)] * HOME_NURSING_PATIENTS
        rest = self.patients - len(homes)
        homes += [(self.clinics[i % len(self.clinics)], None) for i in range(rest)]
        rng.shuffle(homes)

        cprs: set[str] = set()
        patient_rows, order_rows, agreement_rows, sanction_rows, breach_rows = [], [], [], [], []
        courses = []
        for site_id, drug in homes:
            pid = ids("patients")
            drug = drug or rng.choices(list(Drug), weights=(55, 15, 10, 14, 6))[0]
            if drug == Drug.ACAMPROSATE or rng.random() < 0.4:  # started during the year
                course_start = self.start + timedelta(days=rng.randrange((TODAY - self.start).days))
            else:  # in treatment since before the year began
                course_start = self.start - timedelta(days=rng.randint(20, 1500))
            while True:
                born = date(1950, 1, 1) + timedelta(days=rng.randrange(18262))
                cpr = f"{born:%d%m%y}{rng.randrange(4)}{rng.randrange(1000):03d}"
                if cpr not in cprs:
                    cprs.add(cpr)
                    break
            male = int(cpr[-1]) % 2 == 1
            children = rng.random() < 0.15
            patient_rows.append(
                (
                    pid,
                    cpr,
                    f"{rng.choice(FIRST)} {rng.choice(FIRST)} {rng.choice(LAST)}",
                    born,
                    "male" if male else "female",
                    children,
                    not male and rng.random() < 0.01,
                    Decimal(rng.randint(50, 110)),
                    self.at(course_start - timedelta(days=rng.randint(0, 14)), 10),
                )
            )
            course = Course(pid, drug, site_id, course_start, children)
            self._versions(course, ids, order_rows)
            if drug in OPIOIDS or drug == Drug.DISULFIRAM:
                agreement_rows.append(
                    (ids("agreements"), pid, "1", course_start, rng.choice(self.nurses), self.at(course_start, 9))
                )
            if drug in OPIOIDS and site_id not in self.external:
                self._sanctions(course, ids, sanction_rows, breach_rows, order_rows)
            courses.append(course)
        load = self.loader.insert
        load(conn, "patients", COLUMNS["patients"], patient_rows)
        load(conn, "prescriptions", COLUMNS["prescriptions"], [self._signed(r) for r in order_rows])
        load(conn, "agreements", COLUMNS["agreements"], agreement_rows)
        load(conn, "sanctions", COLUMNS["sanctions"], sanction_rows)
        load(conn, "breaches", COLUMNS["breaches"], breach_rows)
        for table, rows in (
            ("patients", patient_rows),
            ("prescriptions", order_rows),
            ("agreements", agreement_rows),
            ("sanctions", sanction_rows),
            ("breaches", breach_rows),
        ):
            self.count(table, len(rows))
        return courses

    def _versions(self, c: Course, ids: Ids, rows: list[dict]) -> None:
        """Version 1 and its signed revisions; some courses are discontinued, a few have a draft waiting."""
        rng = self.rng
        drug = c.drug
        external = c.site_id in self.external
        if drug == Drug.DISULFIRAM:
            weekdays, pickup, dose = (
                ((0, 3), (0, 3), Decimal(800)) if rng.random() < 0.6 else ((0, 2, 4), (0, 2, 4), Decimal(400))
            )
            supervised = True
        elif drug == Drug.ACAMPROSATE:
            weekdays, pickup, dose, supervised = EVERY_DAY, (0,), Decimal(1998), False
            c.ended_on = c.course_start + timedelta(days=29)  # the centre supplies the first month
        else:
            weekdays = EVERY_DAY
            if c.site_id in self.pharmacies:
                pickup, supervised = (0, 3), False
            elif external:
                pickup, supervised = EVERY_DAY, True
            else:
                pickup = rng.choices([EVERY_DAY, (0, 3), (0, 2, 4), (0,)], weights=(55, 20, 17, 8))[0]
                supervised = True
            dose = {
                Drug.METHADONE: Decimal(rng.randrange(30, 125, 5)),
                Drug.BUPRENORPHINE: Decimal(rng.choice([4, 8, 12, 16, 24])),
                Drug.BUPRENORPHINE_NALOXONE: Decimal(rng.choice([8, 16])),
            }[drug]
        versions = [Version(ids("prescriptions"), c.course_start, dose, weekdays, pickup, supervised, c.site_id)]
        if drug != Drug.ACAMPROSATE:
            if rng.random() < 0.07:  # discontinued during the year
                lo = max(c.course_start, self.start) + timedelta(days=14)
                if lo < TODAY - timedelta(days=2):
                    c.ended_on = lo + timedelta(days=rng.randrange((TODAY - timedelta(days=2) - lo).days))
            lo = max(c.course_start + timedelta(days=14), self.start - timedelta(days=180))
            hi = (c.ended_on or TODAY) - timedelta(days=1)
            if lo < hi:
                k = rng.choice([0, 0, 1, 1, 1, 2, 2, 3])
                for eff in sorted(set(lo + timedelta(days=rng.randrange((hi - lo).days)) for _ in range(k))):
                    prev = versions[-1]
                    step = {Drug.METHADONE: Decimal(5), Drug.DISULFIRAM: Decimal(0)}.get(drug, Decimal(2))
                    new_dose = max(step or prev.dose, prev.dose + step * rng.choice([-2, -1, 1, 2]))
                    new_pickup = prev.pickup
                    if drug in OPIOIDS and not external and rng.random() < 0.25:
                        new_pickup = (0, 3) if prev.pickup == EVERY_DAY else EVERY_DAY
                    versions.append(
                        Version(
                            ids("prescriptions"),
                            eff,
                            new_dose,
                            prev.weekdays,
                            new_pickup,
                            prev.supervised,
                            prev.site_id,
                        )
                    )
        c.versions = versions
        for prev, nxt in pairwise(versions):
            prev.last_day = nxt.start - timedelta(days=1)
        versions[-1].last_day = c.ended_on
        doctor = rng.choice(self.doctors)
        for n, v in enumerate(versions, start=1):
            last = n == len(versions)
            signed_at = self.at(v.start, 8, 30) if n == 1 else self.at(v.start - timedelta(days=1), 14)
            prev = versions[n - 2] if n > 1 else None
            rows.append(
                {
                    "id": v.id,
                    "patient_id": c.patient_id,
                    "drug": drug,
                    "product": PRODUCT[drug],
                    "dose_mg": v.dose,
                    "weekdays": weekdays_to_str(v.weekdays),
                    "pickup_weekdays": weekdays_to_str(v.pickup),
                    "supervised": v.supervised,
                    "site_id": v.site_id,
                    "start_date": v.start,
                    "course_start": c.course_start,
                    "end_date": c.ended_on if drug == Drug.ACAMPROSATE else None,
                    "indication": INDICATION[drug],
                    "override_reason": TRANSFER if n == 1 and drug == Drug.METHADONE and v.dose > 30 else None,
                    "pickup_change_reason": "Stabil, take-home ændret" if prev and prev.pickup != v.pickup else None,
                    "version": n,
                    "supersedes_id": prev.id if prev else None,
                    "revision_reason": "Dosisjustering efter samtale" if prev else None,
                    "status": (
                        OrderStatus.ACTIVE
                        if c.ended_on is None or drug == Drug.ACAMPROSATE
                        else OrderStatus.DISCONTINUED
                    )
                    if last
                    else OrderStatus.SUPERSEDED,
                    "created_by_id": doctor,
                    "created_at": signed_at - timedelta(minutes=10),
                    "signed_by_id": doctor,
                    "signed_at": signed_at,
                    "superseded_on": None if last else versions[n].start,
                    "discontinued_on": c.ended_on if last and drug != Drug.ACAMPROSATE else None,
                    "discontinue_reason": "Behandlingen afsluttet efter aftale"
                    if last and c.ended_on and drug != Drug.ACAMPROSATE
                    else None,
                }
            )
        if c.ended_on is None and rng.random() < 0.01:  # a revision waiting for the doctor's signature
            cur = versions[-1]
            rows.append(
                {
                    "id": ids("prescriptions"),
                    "patient_id": c.patient_id,
                    "drug": drug,
                    "product": PRODUCT[drug],
                    "dose_mg": cur.dose,
                    "weekdays": weekdays_to_str(cur.weekdays),
                    "pickup_weekdays": weekdays_to_str(cur.pickup),
                    "supervised": cur.supervised,
                    "site_id": cur.site_id,
                    "start_date": TODAY + timedelta(days=3),
                    "course_start": c.course_start,
                    "end_date": None,
                    "indication": INDICATION[drug],
                    "version": len(versions) + 1,
                    "supersedes_id": cur.id,
                    "revision_reason": "Udkast",
                    "status": OrderStatus.DRAFT,
                    "created_by_id": doctor,
                    "created_at": self.at(TODAY - timedelta(days=1), 15),
                }
            )

    def _signed(self, r: dict) -> tuple:
        """The row as sign_order would leave it: HMAC-SHA256 over signed_content."""
        if r.get("signed_at") is not None:
            p = Prescription(**{k: v for k, v in r.items() if k in COLUMNS["prescriptions"]})
            r["signature"] = security.sign_content(SECRET, signed_content(p))
        return tuple(r.get(c) for c in COLUMNS["prescriptions"])

    def _sanctions(self, c: Course, ids: Ids, rows: list, breaches: list, order_rows: list[dict]) -> None:
        """A few opioid patients get a sanction after a treatment meeting (DOMAIN rule 8)."""
        rng = self.rng
        roll = rng.random()
        step = (
            SanctionStep.DAILY_PICKUP
            if roll < 0.025
            else SanctionStep.POLICE_PICKUP
            if roll < 0.031
            else SanctionStep.TERMINATION
            if roll < 0.034
            else None
        )
        lo = max(c.course_start, self.start) + timedelta(days=30)
        hi = (c.ended_on or TODAY) - timedelta(days=5)
        if step is None or lo >= hi or (step == SanctionStep.TERMINATION and c.ended_on is not None):
            return
        starts = lo + timedelta(days=rng.randrange((hi - lo).days))
        ends = None
        if step != SanctionStep.TERMINATION and rng.random() < 0.5:
            ends = starts + timedelta(days=rng.randint(28, 90))
            ends = ends if ends < TODAY - timedelta(days=1) else None
        doctor = rng.choice(self.doctors)
        site = rng.choice(self.police) if step == SanctionStep.POLICE_PICKUP else None
        sid = ids("sanctions")
        decided = self.at(starts - timedelta(days=1), 14)
        rows.append(
            (
                sid,
                c.patient_id,
                step,
                starts,
                starts + timedelta(days=28),
                ends,
                "Besluttet på behandlingskonference efter sidemisbrug",
                starts - timedelta(days=2),
                site,
                "Henvist til fritvalgsordningen" if step == SanctionStep.TERMINATION else None,
                doctor,
                decided,
                "Stabil igen" if ends else None,
                doctor if ends else None,
                self.at(ends, 15) if ends else None,
            )
        )
        occurred = starts - timedelta(days=rng.randint(5, 20))
        breaches.append(
            (
                ids("breaches"),
                c.patient_id,
                BreachKind.SIDE_ABUSE,
                occurred,
                "Positiv urinprøve (kokain)",
                False,
                None,
                rng.choice(self.nurses),
                self.at(occurred, 11),
                decided,
                doctor,
                f"Sanction {step.value} from {starts}",
                sid,
            )
        )
        c.sanctions.append(
            SanctionTerms(
                step=step, starts_on=starts, ends_on=ends, site_id=site, review_on=starts + timedelta(days=28), id=sid
            )
        )
        if step == SanctionStep.TERMINATION:  # every order still running is discontinued the day before
            c.ended_on = starts - timedelta(days=1)
            kept = [v for v in c.versions if v.start <= c.ended_on]
            dropped = {v.id for v in c.versions} - {v.id for v in kept}
            order_rows[:] = [r for r in order_rows if r["id"] not in dropped and r.get("supersedes_id") not in dropped]
            c.versions = kept
            kept[-1].last_day = c.ended_on
            row = next(r for r in order_rows if r["id"] == kept[-1].id)
            row.update(
                status=OrderStatus.DISCONTINUED,
                superseded_on=None,
                discontinued_on=c.ended_on,
                discontinue_reason="Treatment ended in the municipality (sanction: termination)",
            )
            for r in order_rows:  # a draft on an ended course is withdrawn
                if r["patient_id"] == c.patient_id and r["status"] == OrderStatus.DRAFT:
                    r["status"] = OrderStatus.DISCONTINUED

    # -- the year of history --

    def simulate(self, c: Course, ids: Ids, out: dict[str, list]) -> None:
        """Every due day of the course before today: dispensed, covered, withheld or missed."""
        rng = self.rng
        drug = c.drug
        opioid = drug in OPIOIDS
        first = max(c.course_start, self.start)
        last = min(c.ended_on or TODAY, TODAY - timedelta(days=1))
        covered: set[date] = set()
        absent = False
        run = 0  # missed opioid days in a row
        next_urine = first + timedelta(days=rng.randint(0, 20)) if c.children and opioid else None
        vi = 0
        versions = c.versions
        day = first
        one = timedelta(days=1)
        while day <= last:
            while versions[vi].last_day is not None and day > versions[vi].last_day:
                vi += 1
            v = versions[vi]
            if day < v.start or day.weekday() not in v.weekdays or day in covered:
                day += one
                continue
            site, pickup, supervised, no_take_home = v.site_id, v.pickup, v.supervised, False
            if c.sanctions:
                plan = effective_arrangement(
                    site_id=v.site_id,
                    weekdays=v.weekdays,
                    pickup_weekdays=v.pickup,
                    supervised=v.supervised,
                    sanctions=c.sanctions,
                    day=day,
                )
                site, pickup, supervised = plan.site_id, plan.pickup_weekdays, plan.supervised
                no_take_home = plan.no_take_home_because is not None
            external = site in self.external
            slot_id = ids("slots")
            absent = rng.random() < (0.45 if absent else 0.025)
            if absent:
                no_show = not external and rng.random() < 0.5
                out["slots"].append(
                    (
                        slot_id,
                        c.patient_id,
                        drug,
                        day,
                        0,  # part: the generated doses are not split
                        v.id,
                        site,
                        SlotStatus.MISSED,
                        "no-show" if no_show else "not collected",
                        None,
                        self.at(day, 12) if no_show else self.at(day + one, 8),
                    )
                )
                run += opioid
                day += one
                continue
            hour, minute = (10, rng.randrange(60)) if external else (8 + rng.randrange(3), rng.randrange(60))
            now = self.at(day, hour, minute)
            nurse = rng.choice(self.nurses)
            if opioid and run >= BLOCK_AFTER:  # the block: a doctor reviews before this dose
                doctor = rng.choice(self.doctors)
                alert_id = ids("alerts")
                message = f"{run} consecutive missed days: dose blocked until a doctor reviews."
                out["alerts"].append(
                    (
                        alert_id,
                        c.patient_id,
                        AlertKind.MISSED_DOSE_BLOCK.value,
                        drug,
                        slot_id,
                        message,
                        now - timedelta(minutes=30),
                        now - timedelta(minutes=5),
                        doctor,
                        "Set af læge, dosis fortsat",
                    )
                )
                out["block_releases"].append(
                    (
                        ids("block_releases"),
                        c.patient_id,
                        drug,
                        day,
                        "Set af læge, dosis fortsat",
                        doctor,
                        now - timedelta(minutes=5),
                    )
                )
                out["breaches"].append(
                    (
                        ids("breaches"),
                        c.patient_id,
                        BreachKind.MISSED_PICKUPS,
                        day,
                        message,
                        True,
                        f"missed_run_alert:{alert_id}",
                        None,
                        now - timedelta(minutes=30),
                        None,
                        None,
                        None,
                        None,
                    )
                )
            breath_id = None
            withhold = False
            if drug == Drug.DISULFIRAM or (opioid and not external and rng.random() < 0.05):
                threshold = Decimal("0.00") if drug == Drug.DISULFIRAM else Decimal("0.50")
                promille = Decimal("0.00")
                if rng.random() < 0.04:
                    promille = Decimal(rng.randint(5, 120)) / 100
                withhold = promille > threshold
                breath_id = ids("breath_tests")
                out["breath_tests"].append(
                    (
                        breath_id,
                        c.patient_id,
                        slot_id,
                        promille,
                        threshold,
                        "withhold" if withhold else "allow",
                        nurse,
                        now,
                    )
                )
            if withhold:
                reason = f"Breath alcohol {promille} ‰ is above {threshold} ‰: no dose; consult the doctor."
                out["slots"].append(
                    (slot_id, c.patient_id, drug, day, 0, v.id, site, SlotStatus.WITHHELD, reason, None, now)
                )
                out["alerts"].append(
                    (
                        ids("alerts"),
                        c.patient_id,
                        AlertKind.WITHHELD_DOSE.value,
                        drug,
                        slot_id,
                        f"{drug.value} withheld on {day}: breath {promille} ‰. {reason}",
                        now,
                        now + timedelta(days=1),
                        rng.choice(self.doctors),
                        "Set",
                    )
                )
                run += opioid
                day += one
                continue
            run = 0
            take_home = [] if drug == Drug.DISULFIRAM or no_take_home else self._take_home(day, v, pickup)
            days = [day, *take_home]
            dispense_id = ids("dispenses")
            out["slots"].append(
                (slot_id, c.patient_id, drug, day, 0, v.id, site, SlotStatus.DISPENSED, None, None, now)
            )
            prepared = now - timedelta(hours=20)
            out["dispenses"].append(
                (
                    dispense_id,
                    slot_id,
                    c.patient_id,
                    v.id,
                    site,
                    drug,
                    v.dose,
                    supervised and not external,
                    len(take_home),
                    v.dose * len(days),
                    days[0],
                    days[-1],
                    tuple(d.isoformat() for d in days),
                    breath_id,
                    DispenseStatus.DISPENSED,
                    nurse,
                    prepared if external else now,
                    prepared if external else now,  # recorded_at: at the handout (no paper records generated)
                    nurse,  # recorded_by_id
                    self.site_staff[site] if external else None,
                    now if external else None,
                )
            )
            for d in take_home:
                out["covered_slots"].append(
                    (
                        ids("slots"),
                        c.patient_id,
                        drug,
                        d,
                        0,
                        v.id,
                        v.site_id,
                        SlotStatus.COVERED,
                        None,
                        dispense_id,
                        now,
                    )
                )
                covered.add(d)
            if next_urine is not None and day >= next_urine and not external:
                self._urine_test(c, day, now, nurse, ids, out)
                next_urine = day + timedelta(days=rng.randint(21, 84))
            day += one

    def _take_home(self, day: date, v: Version, pickup) -> list[date]:
        """rules.schedule.take_home_dates, memoised on what it depends on (weekday, days, span left)."""
        left = min((v.last_day - day).days, TAKE_HOME_MAX) if v.last_day else TAKE_HOME_MAX
        key = (day.weekday(), v.weekdays, tuple(sorted(pickup)), left)
        offsets = self._spans.get(key)
        if offsets is None:
            base = date(2024, 1, 1) + timedelta(days=day.weekday())  # a day with the same weekday
            offsets = self._spans[key] = [
                (d - base).days
                for d in take_home_dates(
                    base, v.weekdays, pickup, TAKE_HOME_MAX, base + timedelta(days=left) if v.last_day else None
                )
            ]
        return [day + timedelta(days=n) for n in offsets]

    def _urine_test(self, c: Course, day: date, now: datetime, nurse: int, ids: Ids, out: dict[str, list]) -> None:
        rng = self.rng
        test_id = ids("urine_tests")
        if rng.random() < 0.02:
            breach_id = ids("breaches")
            out["breaches"].append(
                (
                    breach_id,
                    c.patient_id,
                    BreachKind.REFUSED_URINE_SAMPLE,
                    day,
                    "Refused a urine sample that was due.",
                    True,
                    f"urine_refused:{test_id}",
                    nurse,
                    now,
                    None,
                    None,
                    None,
                    None,
                )
            )
            out["urine_tests"].append(
                (
                    test_id,
                    c.patient_id,
                    UrineOutcome.REFUSED,
                    day,
                    None,
                    None,
                    "",
                    None,
                    True,
                    None,
                    breach_id,
                    nurse,
                    now,
                )
            )
            return
        expected = {Drug.METHADONE: "methadone"}.get(c.drug, "buprenorphine")
        results = {k: "pos" if k == expected else "neg" for k in PANEL}
        found = []
        if rng.random() < 0.1:
            found = [rng.choice(["cannabis", "benzodiazepines", "cocaine", "opioids"])]
            results[found[0]] = "pos"
        alert_id = None
        if found:
            alert_id = ids("alerts")
            out["alerts"].append(
                (
                    alert_id,
                    c.patient_id,
                    "positive_urine",
                    None,
                    None,
                    f"Urine sample collected {day} is positive for {found[0]}, not explained by the "
                    "orders in force (side abuse / sidemisbrug): take it to the treatment meeting.",
                    now,
                    now + timedelta(days=7),
                    rng.choice(self.doctors),
                    "Drøftet på konference",
                )
            )
        out["urine_tests"].append(
            (
                test_id,
                c.patient_id,
                UrineOutcome.COLLECTED,
                day,
                results,
                found,
                c.drug.value,
                None,
                True,
                alert_id,
                None,
                nurse,
                now,
            )
        )

    def history(self, courses: list[Course], ids: Ids) -> None:
        total = len(courses)
        for lo in range(0, total, CHUNK):
            out: dict[str, list] = {t: [] for t in CHUNK_TABLES}
            for c in courses[lo : lo + CHUNK]:
                self.simulate(c, ids, out)
            with bulk_transaction(self.engine) as conn:
                for table in CHUNK_TABLES:
                    name = "slots" if table == "covered_slots" else table
                    self.loader.insert(conn, name, COLUMNS[name], out[table])
                    self.count(name, len(out[table]))
            self.log(f"  history: {min(lo + CHUNK, total)}/{total} patients, {self.loader.rows:,} rows")

    # -- urine plans through the service --

    def urine_plans(self, courses: list[Course]) -> None:
        """Today's unannounced-test plans, drawn by the urine service (as the first roster of the day would)."""
        ids = [c.patient_id for c in courses if c.children and c.ended_on is None]
        for lo in range(0, len(ids), 200):
            with transaction(make_session_factory(self.engine)) as s:
                nurse = s.get(User, self.nurses[0])
                urine_due_today(self.ctx(s, nurse, self.at(TODAY, 6)), set(ids[lo : lo + 200]), TODAY)

    def run(self) -> dict[str, int]:
        t0 = clock.perf_counter()
        self.staff_and_sites()
        with bulk_transaction(self.engine) as conn:
            ids = Ids(conn, [t for t in COLUMNS])
            courses = self.plan_courses(conn, ids)
        self.log(f"  {len(courses)} patients and their orders ({clock.perf_counter() - t0:.0f} s)")
        self.history(courses, ids)
        check_foreign_keys(self.engine, COLUMNS)
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                for table in COLUMNS:  # explicit ids were inserted: move the sequences past them
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))"
                        )
                    )
        if self.engine.dialect.name == "postgresql":  # what autovacuum would do after the load
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        self.urine_plans(courses)
        self.log(f"  generated in {clock.perf_counter() - t0:.0f} s")
        return self.counts


def fast_password_hashing() -> None:
    """Argon2id with a small cost, as the test suite does: the benchmark makes dozens of users."""
    from argon2 import PasswordHasher

    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._DUMMY_HASH = security._hasher.hash("dummy")


def generate(
    engine: Engine, patients: int, *, seed: int = SEED, history_days: int = 365, log: Callable[[str], None] = print
) -> dict[str, int]:
    """Fill an empty database migrated to head with a region of `patients` patients; returns row counts."""
    fast_password_hashing()
    return Region(engine, patients, seed=seed, history_days=history_days, log=log).run()


if __name__ == "__main__":
    import argparse

    from dispensing.db import make_engine
    from dispensing.migrate import upgrade_to_head

    parser = argparse.ArgumentParser(description="Generate a region's data set into a new database.")
    parser.add_argument("url", help="SQLAlchemy URL of an empty database")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--history-days", type=int, default=365)
    args = parser.parse_args()
    eng = make_engine(args.url)
    upgrade_to_head(eng)
    for table, n in sorted(generate(eng, args.patients, history_days=args.history_days).items()):
        print(f"{table:>16} {n:>10,}")
