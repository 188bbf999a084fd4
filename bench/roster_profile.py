"""One clinic's roster on a generated region, for finding where its time goes.

The shared machine's speed drifts by up to 2x within an hour, so a change worth 5 % cannot be seen
in wall-clock medians. This script times the roster service, profiles it, or runs a fixed number
of rosters for an instruction count that is the same on every run (valgrind's callgrind):

    .venv/bin/python -m bench.roster_profile --patients 1000                   # medians, wall and CPU
    .venv/bin/python -m bench.roster_profile --patients 1000 --profile         # cProfile, cumulative
    PSORT=tottime .venv/bin/python -m bench.roster_profile --profile           # cProfile, flat
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \\
        .venv/bin/python -m bench.roster_profile --patients 1000 --rosters 12  # "I refs", then with --rosters 2

(instructions at 12 minus at 2) / 10 is one roster's count; compare two checkouts at the same
--rosters. Uses the region of bench/run.py (generated there if missing) on a fresh copy, so it must not
run while bench/run.py does.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import time as timer
from datetime import UTC, datetime, time

from sqlalchemy import select

from bench.generate import SECRET, TODAY, TZ
from bench.run import prepare_database
from dispensing.db import make_engine, make_session_factory
from dispensing.enums import Role, SiteKind
from dispensing.migrate import upgrade_to_head
from dispensing.models import Site, User
from dispensing.runtime import tune_garbage_collector
from dispensing.services.context import Ctx
from dispensing.services.roster import build_roster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--workdir", default="/tmp/dispensing-bench")
    ap.add_argument("--history-days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=40, help="timed rosters")
    ap.add_argument("--profile", action="store_true", help="cProfile 10 rosters instead of timing")
    ap.add_argument("--rosters", type=int, help="only run this many rosters after the warm-up (callgrind)")
    ap.add_argument("--callers", help="with --profile: also who calls the functions matching this")
    args = ap.parse_args()
    args.regenerate = False

    target = prepare_database(args.db, args.patients, args)
    engine = make_engine(target.url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    now = datetime.combine(TODAY, time(8, 30), tzinfo=TZ).astimezone(UTC)
    with factory() as s:
        clinics = s.scalars(select(Site.id).where(Site.kind == SiteKind.CLINIC).order_by(Site.id)).all()
        nurse = s.scalars(select(User.id).where(User.role == Role.NURSE).order_by(User.id)).first()

    def roster(site_id: int) -> tuple[float, float]:
        with factory() as s:
            ctx = Ctx(session=s, actor=s.get(User, nurse), now=now, tz=TZ, secret=SECRET)
            cpu, wall = timer.process_time(), timer.perf_counter()
            build_roster(ctx, site_id, TODAY)
            s.commit()
            return (timer.perf_counter() - wall) * 1000, (timer.process_time() - cpu) * 1000

    roster(clinics[-1])  # the first look of the day at another clinic warms Python's caches
    roster(clinics[0])  # the measured clinic's first look creates its slots
    tune_garbage_collector()  # as `dispensing serve` does
    for _ in range(3):
        roster(clinics[0])
    if args.rosters is not None:
        for _ in range(args.rosters):
            roster(clinics[0])
    elif args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(10):
            roster(clinics[0])
        profile.disable()
        stats = pstats.Stats(profile).sort_stats(os.environ.get("PSORT", "cumulative"))
        stats.print_stats(60)
        if args.callers:
            stats.print_callers(args.callers)
    else:
        times = [roster(clinics[0]) for _ in range(args.repeat)]
        print(
            f"{args.db}, {args.patients:,} patients: roster median {statistics.median(t for t, _ in times):.1f} ms "
            f"(min {min(t for t, _ in times):.1f}), CPU median {statistics.median(c for _, c in times):.1f} ms"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
