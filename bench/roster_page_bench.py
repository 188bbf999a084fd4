"""Roster page benchmark: GET /ui/roster for a clinic with 300 patients due, against a 150 ms target.

Builds a SQLite file database through the real services (users, a clinic with windows, 300 patients
on methadone, buprenorphine, Suboxone, Antabus and Campral with signed orders started two weeks
earlier, two weeks of window history with dispenses and no-shows, children at home for the urine
rule, some take-home arrangements), then logs in through the login form and times the roster page
through the ASGI app (TestClient, the whole request: session cookie, one transaction, build_roster,
the audit entry, the template).

Run: .venv/bin/python -m bench.roster_page_bench [--patients 300] [--repeat 40]
"""

import argparse
import os
import platform
import random
import re
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from dispensing import security
from dispensing.config import Settings
from dispensing.db import make_engine, make_session_factory, transaction
from dispensing.enums import Drug, Role, SiteKind
from dispensing.migrate import upgrade_to_head
from dispensing.models import User
from dispensing.runtime import tune_garbage_collector
from dispensing.services import dispense, prescriptions, sites
from dispensing.services.context import Ctx
from dispensing.services.patients import register_patient
from dispensing.services.roster import build_roster
from dispensing.services.users import create_user

TARGET_MS = 150.0
TZ = ZoneInfo("Europe/Copenhagen")
SECRET = "bench-secret-" + "x" * 40
PASSWORD = "bench-password-2026"
TODAY = date(2026, 3, 2)  # a Monday: Antabus is due too
HISTORY_DAYS = 14  # every day since the orders started: nobody is blocked for want of history
FIRST = ["Søren", "Bjørn", "Åse", "Mads", "Jens", "Mette", "Kåre", "Ida", "Ørjan", "Anne-Mette", "Frederik", "Lise"]
LAST = ["Østergaard", "Jørgensen", "Kjærsgaard", "Bækgaard", "Ågård", "Nielsen", "Møller", "Læssøe", "Hansen"]
DRUGS = [  # (drug, dose, product, share)
    (Drug.METHADONE, "60", "methadone-oral-1", 0.55),
    (Drug.BUPRENORPHINE, "16", "subutex-sl", 0.15),
    (Drug.BUPRENORPHINE_NALOXONE, "8", None, 0.1),
    (Drug.DISULFIRAM, "800", None, 0.1),
    (Drug.ACAMPROSATE, "1998", None, 0.1),
]


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)


def cpr(n: int) -> str:
    born = date(1960, 1, 1) + timedelta(days=n * 37 % 14000)
    return f"{born:%d%m%y}{(n // 1000) % 4}{n % 1000:03d}"


def build_database(url: str, n: int, rng: random.Random) -> None:
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    start = TODAY - timedelta(days=HISTORY_DAYS)
    with transaction(factory) as s:
        system = Ctx(session=s, actor=None, now=at(start), tz=TZ, secret=SECRET.encode())
        admin = create_user(system, username="admin", password=PASSWORD, role=Role.ADMIN)
        as_admin = Ctx(session=s, actor=admin, now=at(start), tz=TZ, secret=SECRET.encode())
        clinic = sites.create_site(as_admin, name="Sundhedsklinikken", kind=SiteKind.CLINIC)
        W = sites.WindowSpec
        sites.set_windows(
            as_admin,
            clinic.id,
            [W(d, clock_time(8), clock_time(10)) for d in range(7)]
            + [W(d, clock_time(13), clock_time(14)) for d in range(5)],
        )
        doctor = create_user(
            as_admin, username="laege", password=PASSWORD, role=Role.DOCTOR, can_prescribe_addictive=True
        )
        nurse = create_user(as_admin, username="sygeplejerske", password=PASSWORD, role=Role.NURSE, site_id=clinic.id)
        as_nurse = Ctx(session=s, actor=nurse, now=at(start), tz=TZ, secret=SECRET.encode())
        as_doctor = Ctx(session=s, actor=doctor, now=at(start), tz=TZ, secret=SECRET.encode())
        weights = [share for *_, share in DRUGS]
        for i in range(n):
            p = register_patient(
                as_nurse,
                cpr=cpr(i + 1),
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}",
                children_at_home=rng.random() < 0.2,
                weight_kg=Decimal("70"),
            )
            drug, dose, product, _ = rng.choices(DRUGS, weights)[0]
            # Antabus on every day here so that all 300 are due on the benchmark day.
            pickup = (0, 3) if drug in (Drug.METHADONE, Drug.ACAMPROSATE) and rng.random() < 0.3 else None
            terms = prescriptions.OrderTerms(
                drug=drug,
                dose_mg=Decimal(dose),
                site_id=clinic.id,
                start_date=start,
                indication="Afhængighed",
                product=product,
                pickup_weekdays=pickup,
                supervised=drug != Drug.ACAMPROSATE,
                override_reason="Kendt tolerance" if drug == Drug.METHADONE else None,
            )
            order = prescriptions.create_order(as_doctor, p.id, terms)
            prescriptions.sign_order(as_doctor, order.id, PASSWORD)
    # The window's history since the orders started: most patients come, some do not.
    for back in range(HISTORY_DAYS, 0, -1):
        day = TODAY - timedelta(days=back)
        with transaction(factory) as s:
            nurse = s.execute(select(User).where(User.username == "sygeplejerske")).scalar_one()
            ctx = Ctx(session=s, actor=nurse, now=at(day), tz=TZ, secret=SECRET.encode())
            for e in build_roster(ctx, clinic.id, day):
                if e.slot.status.value != "due" or e.blocked_reason or rng.random() < 0.08:
                    continue
                breath = Decimal("0.00") if e.breathalyser_required else None
                dispense.dispense(ctx, e.slot.id, breath_promille=breath, supervised=True, take_home_days=None)
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # cheap logins, same code
    security._DUMMY_HASH = security._hasher.hash("dummy")
    rng = random.Random(6)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/roster-bench.db"
        t0 = time.perf_counter()
        build_database(url, args.patients, rng)
        setup_s = time.perf_counter() - t0
        settings = Settings(database_url=url, secret_key=SECRET, data_dir=Path(tmp))
        rows = [("", *time_page(settings, args.repeat))]
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"SQLite file database; setup {setup_s:.0f} s; {args.repeat} timed requests after 3 warm-up"
    )
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print()
    print("| case | median ms | p95 ms | min ms | CPU ms (median) | median / 150 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, due, cold_ms, times, search, cpu in rows:
        times.sort()
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        print(
            f"| GET /ui/roster, {due} rows{label} | {median:.1f} | {p95:.1f} | {times[0]:.1f} | {cpu:.1f} | "
            f"{median / TARGET_MS:.2f} |"
        )
        print(
            f"| GET /ui/roster?q=Østergaard (search){label} | {statistics.median(search):.1f} | {max(search):.1f} | "
            f"{min(search):.1f} | | {statistics.median(search) / TARGET_MS:.2f} |"
        )
        print(
            f"| first look of the day (creates {due} slots, draws urine plans){label} | {cold_ms:.1f} | | | | "
            f"{cold_ms / TARGET_MS:.2f} |"
        )


def time_page(settings: Settings, repeat: int) -> tuple[int, float, list[float], list[float], float]:
    """Log in as the nurse and time the roster page, on a fresh copy of the built database."""
    src = Path(settings.database_url.removeprefix("sqlite:///"))
    copy = src.with_name(f"copy-{time.monotonic_ns()}.db")
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{src}{suffix}").exists():
            shutil.copy(f"{src}{suffix}", f"{copy}{suffix}")
    now = at(TODAY, 9)
    app = create_app(settings.model_copy(update={"database_url": f"sqlite:///{copy}"}), clock=lambda: now)
    tune_garbage_collector()  # as `dispensing serve` does once the app is built
    with TestClient(app) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/login").text).group(1)
        r = client.post(
            "/ui/login",
            data={"username": "sygeplejerske", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        t0 = time.perf_counter()
        first = client.get("/ui/roster")
        cold_ms = (time.perf_counter() - t0) * 1000
        assert first.status_code == 200
        due = first.text.count('href="/ui/slots/')
        for _ in range(3):
            client.get("/ui/roster")
        times, cpu = [], []
        for _ in range(repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            r = client.get("/ui/roster")
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)  # this process only: not inflated by other load
            assert r.status_code == 200
        search = []
        for _ in range(10):
            t0 = time.perf_counter()
            client.get("/ui/roster", params={"q": "Østergaard"})
            search.append((time.perf_counter() - t0) * 1000)
    app.state.engine.dispose()
    return due, cold_ms, times, search, statistics.median(cpu)


if __name__ == "__main__":
    main()
