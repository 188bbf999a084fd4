"""Several server processes on one PostgreSQL: one process, one server with 2 workers, 2 servers.

Run from the project root (PostgreSQL at 127.0.0.1:5432, user postgres; the region is generated once by
bench/generate.py and kept as a template database, as bench/run.py does):

    .venv/bin/python -m bench.several_servers --patients 10000 --runs 3

For each set-up, on a fresh copy of the region: a clinic's roster over HTTP (median of reloads), 20 nurses
dispensing paced (p95) and back to back (throughput), the nurses spread over the servers. Figures are read
as ratios to the single process measured in the same run (the machine is shared and noisy). Prints a
markdown table and rewrites the section "## Several servers (bench/several_servers.py)" of BENCHMARKS.md.
"""

import argparse
import os
import statistics
import sys
import time as timer
from datetime import UTC, datetime, time
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.generate import SECRET, TODAY, TZ
from bench.run import ROOT, Server, log, machine, pct, prepare_database, run_nurses, write_section
from dispensing.db import make_engine
from dispensing.enums import Role, SiteKind
from dispensing.migrate import upgrade_to_head
from dispensing.models import Site, User
from dispensing.security import create_access_token

SECTION = "## Several servers (bench/several_servers.py)"
SETUPS = {"1 process": [1], "1 server, 2 workers": [2], "2 servers": [1, 1]}
TARGET_PACED_P95_MS = 25.0
TARGET_ROSTER_HTTP_MS = 50.0
TARGET_THROUGHPUT_RATIO = 1.6  # 2 workers against 1 process, back to back, on this 2-core machine


def _tree(pid: int) -> set[int]:
    """The process and its descendants (a server's uvicorn workers)."""
    children = {pid}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children |= _tree(int(stat.parent.name))
    return children


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cpu_seconds(server_pids: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the servers, by PostgreSQL's processes and by this load generator."""
    servers = set().union(*(_tree(p) for p in server_pids))
    postgres = set()
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in ("postgres", "postmaster"):
                postgres.add(int(comm.parent.name))
        except OSError:
            continue
    return {
        "servers": sum(map(_cpu, servers)),
        "postgresql": sum(map(_cpu, postgres)),
        "load_generator": _cpu(os.getpid()),
    }


def measure(setup: list[int], args) -> dict:
    target = prepare_database("postgresql", args.patients, args)
    engine = make_engine(target.url)
    upgrade_to_head(engine)  # the template may predate newer migrations
    with engine.connect() as conn:
        clinics = conn.scalars(select(Site.id).where(Site.kind == SiteKind.CLINIC).order_by(Site.id)).all()
        nurse_ids = conn.scalars(select(User.id).where(User.role == Role.NURSE).order_by(User.id)).all()
    engine.dispose()
    nurse_ids = nurse_ids[: args.nurses]
    now = datetime.combine(TODAY, time(9, 0), tzinfo=TZ).astimezone(UTC)
    tokens = [create_access_token(SECRET, n, now, 600) for n in nurse_ids]
    workdir = Path(args.workdir)
    servers = [Server(target.url, workdir, now, max_seconds=1200, workers=w) for w in setup]
    bases = [s.base for s in servers]
    r: dict = {}
    try:
        pool = []
        with httpx.Client(headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=120) as c:
            for site in clinics:  # the first look of the day creates the slots
                for item in c.get(f"{bases[0]}/sites/{site}/roster").raise_for_status().json():
                    if item["status"] == "due" and not item["blocked_reason"]:
                        pool.append((item["slot_id"], item["drug"]))
            times = []
            for i in range(args.repeat + len(bases)):
                t0 = timer.perf_counter()
                c.get(f"{bases[i % len(bases)]}/sites/{clinics[0]}/roster").raise_for_status()
                times.append((timer.perf_counter() - t0) * 1000)
            r["roster_http_median_ms"] = statistics.median(times[len(bases) :])  # the first per server warms it
        per_nurse = [bases[n % len(bases)] for n in range(len(tokens))]
        run_nurses(per_nurse, tokens, [[pool.pop()] for _ in tokens])  # warm connections and caches
        for phase, think in (("paced", args.think_s), ("saturated", 0.0)):
            work = [[pool.pop() for _ in range(args.dispenses_per_nurse)] for _ in tokens]
            before = cpu_seconds([s.proc.pid for s in servers])
            results, wall = run_nurses(per_nurse, tokens, work, think_s=think)
            used = {k: v - before[k] for k, v in cpu_seconds([s.proc.pid for s in servers]).items()}
            for who, seconds in used.items():  # share of the machine's cores during the phase
                r[f"{phase}_cpu_{who}"] = 100 * seconds / (wall * (os.cpu_count() or 1))
            ok = [ms for ms, status, _ in results if status == 201]
            r[f"{phase}_errors"] = len(results) - len(ok)
            r[f"{phase}_throughput"] = len(results) / wall
            r[f"{phase}_p50_ms"], r[f"{phase}_p95_ms"] = statistics.median(ok), pct(ok, 95)
    finally:
        for s in servers:
            s.stop()
    log(
        f"  roster {r['roster_http_median_ms']:.0f} ms; paced p95 {r['paced_p95_ms']:.0f} ms; back to back "
        f"{r['saturated_throughput']:.0f}/s (p95 {r['saturated_p95_ms']:.0f} ms); errors "
        f"{r['paced_errors'] + r['saturated_errors']}"
    )
    return r


def report(results: dict[str, dict], args, command: str, started: datetime) -> str:
    single = results["1 process"]
    rows = [
        ("roster over HTTP, median ms", "roster_http_median_ms", TARGET_ROSTER_HTTP_MS),
        ("dispense, 20 nurses paced, p95 ms", "paced_p95_ms", TARGET_PACED_P95_MS),
        ("dispense, 20 nurses back to back, p95 ms", "saturated_p95_ms", None),
        ("back-to-back throughput, dispenses/s", "saturated_throughput", None),
        ("back to back, CPU of the servers, % of the machine", "saturated_cpu_servers", None),
        ("back to back, CPU of PostgreSQL, % of the machine", "saturated_cpu_postgresql", None),
        ("back to back, CPU of the load generator, % of the machine", "saturated_cpu_load_generator", None),
    ]
    head = "| | " + " | ".join(SETUPS) + " | target |\n| --- |" + " ---: |" * (len(SETUPS) + 1)
    lines = [head]
    for label, key, target in rows:
        cells = []
        for name in SETUPS:
            v = results[name][key]
            ratio = v / single[key]
            cells.append(f"{v:.0f}" + ("" if name == "1 process" else f" ({ratio:.2f}x)"))
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {f'{target:g}' if target else ''} |")
    ratio = results["1 server, 2 workers"]["saturated_throughput"] / single["saturated_throughput"]
    errors = sum(r["paced_errors"] + r["saturated_errors"] for r in results.values())
    return f"""{SECTION}

Run {started:%Y-%m-%d %H:%M %Z}, {args.patients:,} patients on PostgreSQL, median of {args.runs} run(s), on
{machine()}:

    {command}

{chr(10).join(lines)}

In brackets: the ratio to the single process in the same run. The CPU rows are shares of all
{os.cpu_count()} cores over the back-to-back phase: the servers, PostgreSQL and the 20 nurses' client threads
share the machine, so what the servers can gain from a second worker is what the other two leave.
Targets: a clinic's roster of ~400 at most
{TARGET_ROSTER_HTTP_MS:g} ms median over HTTP; a dispense at most {TARGET_PACED_P95_MS:g} ms at the 95th percentile
with 20 paced nurses; back-to-back throughput with 2 workers at least {TARGET_THROUGHPUT_RATIO:g}x the single
process (measured: {ratio:.2f}x). Failed dispenses in all set-ups: {errors}.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--workdir", default="/tmp/dispensing-bench")
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--nurses", type=int, default=20)
    parser.add_argument("--dispenses-per-nurse", type=int, default=15)
    parser.add_argument("--think-s", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=15, help="roster reloads")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    started = datetime.now().astimezone()
    results = {}
    for name, setup in SETUPS.items():
        log(f"== {name}")
        runs = [measure(setup, args) for _ in range(args.runs)]
        results[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    command = ".venv/bin/python -m bench.several_servers " + " ".join(sys.argv[1:])
    section = report(results, args, command.strip(), started)
    print(section)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", section, SECTION)


if __name__ == "__main__":
    main()
