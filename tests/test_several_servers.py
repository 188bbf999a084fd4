"""Several server processes on one PostgreSQL database (README "Running several servers").

Two real `dispensing serve` processes (one of them with two workers) share a database, the login secret
and the label key. Twenty nurses dispense through both at once, all of them on the same slots: one dose
per slot, one audit chain that verifies, a stock ledger that lost no update, a login from one server
accepted by the other, and every label verifies at both. Wrong passwords count together at both
servers, and a logout at one ends the session at the other. A third process with another secret
refuses to start with one plain line.
"""

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import func, select

from dispensing.db import make_session_factory, transaction
from dispensing.enums import Drug, Role
from dispensing.models import Dispense
from dispensing.rules import throttle
from dispensing.services import calendar, prescriptions, sites
from dispensing.services.context import Ctx
from dispensing.services.patients import register_patient
from dispensing.services.users import create_user
from tests.api.test_labels import needs_tools, read_qr_codes
from tests.conftest import AUDIT_KEY, PASSWORD, SECRET, TZ, Factory
from tests.web._ui import Ui

NURSES = 20
PATIENTS = 20
TAKE_HOME = 4  # patients whose dose comes with one take-home day (a label each)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(url: str, data_dir, secret: bytes, *extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(
        os.environ,
        DISPENSING_DATABASE_URL=url,
        DISPENSING_SECRET_KEY=secret.decode(),
        DISPENSING_DATA_DIR=str(data_dir),
        # the audit key the test process chains its own set-up entries with (tests/conftest.py)
        DISPENSING_AUDIT_KEY=AUDIT_KEY,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispensing.cli", "serve", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def _wait_ready(proc: subprocess.Popen, base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stdout.read()}")
        try:
            if httpx.get(f"{base}/labels/public-key", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server at {base} not ready in {seconds} s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _clinic(engine) -> dict:
    """Committed data for today (the servers run on the real clock): a site open all day, staff, orders."""
    now = datetime.now(UTC)
    today = now.astimezone(TZ).date()
    tag = random.randrange(10**9)

    def ctx(session, actor=None) -> Ctx:
        return Ctx(session=session, actor=actor, now=now, tz=TZ, secret=SECRET)

    with transaction(make_session_factory(engine)) as s:
        admin = create_user(ctx(s), username=f"srv-adm{tag}", password=PASSWORD, role=Role.ADMIN)
        doctor = create_user(
            ctx(s), username=f"srv-doc{tag}", password=PASSWORD, role=Role.DOCTOR, can_prescribe_addictive=True
        )
        nurses = [
            create_user(ctx(s), username=f"srv-nur{tag}-{i}", password=PASSWORD, role=Role.NURSE).username
            for i in range(NURSES)
        ]
        site = sites.create_site(ctx(s, admin), name=f"Two servers {tag}", kind="clinic")
        calendar.set_holiday_rule(ctx(s, admin), site.id, False)  # open on any day the test runs
        sites.set_windows(
            ctx(s, admin), site.id, [sites.WindowSpec(d, clock_time(0), clock_time(23, 59)) for d in range(7)]
        )
        for i in range(PATIENTS):
            patient = register_patient(ctx(s, admin), cpr=Factory.cpr(), name=f"Server Sørensen {i}")
            # The first few pick up today only and take tomorrow's dose home; the rest come daily.
            pickup = (today.weekday(),) if i < TAKE_HOME else tuple(range(7))
            order = prescriptions.create_order(
                ctx(s, doctor),
                patient.id,
                prescriptions.OrderTerms(
                    drug=Drug.METHADONE,
                    dose_mg=Decimal("30"),
                    site_id=site.id,
                    start_date=today,
                    indication="test",
                    pickup_weekdays=pickup,
                ),
            )
            prescriptions.sign_order(ctx(s, doctor), order.id, PASSWORD)
        return {"site_id": site.id, "today": today, "nurses": nurses, "admin": admin.username}


@pytest.fixture(scope="module")
def two_servers(committed_engine, tmp_path_factory):
    url = committed_engine.url.render_as_string(hide_password=False)
    data_dir = tmp_path_factory.mktemp("shared-data")  # the label key both servers use
    a, base_a = _start(url, data_dir, SECRET, "--workers", "2")
    _wait_ready(a, base_a)  # the first records the keys' fingerprints; the second must match them
    b, base_b = _start(url, data_dir, SECRET)
    try:
        _wait_ready(b, base_b)
        yield {"url": url, "data_dir": data_dir, "bases": (base_a, base_b), "engine": committed_engine}
    finally:
        _stop(a)
        _stop(b)


def _login(base: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{base}/auth/token", data={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@needs_tools
def test_twenty_nurses_through_two_servers_give_one_dose_per_slot(two_servers, tmp_path):
    base_a, base_b = two_servers["bases"]
    clinic = _clinic(two_servers["engine"])
    # Each nurse logs in at one server and works through the other: the login secret is shared.
    headers = [_login((base_a, base_b)[i % 2], n) for i, n in enumerate(clinic["nurses"])]
    roster = httpx.get(
        f"{base_a}/sites/{clinic['site_id']}/roster",
        params={"date": clinic["today"].isoformat()},
        headers=headers[0],
        timeout=30,
    ).json()
    assert len(roster) == PATIENTS
    # The first patients take tomorrow's dose home (one label each); the rest have no take-home.
    slots = {item["slot_id"]: min(item["take_home_days"], 1) for item in roster}
    # The clinic's methadone stock, received at one server with a second nurse as witness.
    received = httpx.post(
        f"{base_a}/sites/{clinic['site_id']}/stock/receipts",
        headers=headers[0],
        json={
            "product": "methadone-oral-1",
            "quantity": "5000",
            "batch": "TWO-1",
            "expiry": (clinic["today"] + timedelta(days=200)).isoformat(),
            "supplier": "Sygehusapoteket",
            "witness": {"username": clinic["nurses"][1], "password": PASSWORD},
        },
        timeout=30,
    )
    assert received.status_code == 201, received.text

    barrier = threading.Barrier(NURSES)
    outcomes: list[tuple[int, int]] = []
    lock = threading.Lock()

    def nurse(i: int) -> None:
        base = (base_b, base_a)[i % 2]
        order = list(slots)
        random.Random(i).shuffle(order)
        with httpx.Client(base_url=base, headers=headers[i], timeout=60) as http:
            barrier.wait()
            for slot_id in order:
                body = {"breath_alcohol_promille": "0.00", "supervised": True, "take_home_days": slots[slot_id]}
                r = http.post(f"/slots/{slot_id}/dispense", json=body)
                with lock:
                    outcomes.append((slot_id, r.status_code))

    threads = [threading.Thread(target=nurse, args=(i,)) for i in range(NURSES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    created = Counter(slot for slot, status in outcomes if status == 201)
    assert created == Counter(dict.fromkeys(slots, 1)), "exactly one dose handed out per slot"
    assert Counter(status for _, status in outcomes) == {201: PATIENTS, 409: PATIENTS * (NURSES - 1)}
    with two_servers["engine"].connect() as conn:
        per_slot = conn.execute(
            select(Dispense.slot_id, func.count()).where(Dispense.slot_id.in_(slots)).group_by(Dispense.slot_id)
        ).all()
    assert dict(per_slot) == dict.fromkeys(slots, 1)

    admin = _login(base_b, clinic["admin"])
    for base in (base_a, base_b):
        verdict = httpx.get(f"{base}/audit/verify", headers=admin, timeout=60).json()
        assert verdict["ok"] is True, verdict
        # The ledger lost no update: 30 ml for each patient's day, 30 more for each take-home day.
        (stock,) = httpx.get(f"{base}/sites/{clinic['site_id']}/stock", headers=headers[0], timeout=30).json()
        issued = 30 * (PATIENTS + TAKE_HOME)
        assert (stock["product"], Decimal(stock["balance"])) == ("methadone-oral-1", 5000 - issued)

    # Every take-home label, printed by either server, verifies at both.
    take_home = [s for s, days in slots.items() if days]
    assert len(take_home) == TAKE_HOME
    with two_servers["engine"].connect() as conn:
        dispense_ids = conn.scalars(select(Dispense.id).where(Dispense.slot_id.in_(take_home))).all()
    for n, dispense_id in enumerate(dispense_ids):
        printer = (base_a, base_b)[n % 2]
        label = httpx.get(f"{printer}/dispenses/{dispense_id}/label.pdf", headers=admin, timeout=30)
        assert label.status_code == 200
        (token,) = read_qr_codes(label.content, tmp_path, expect=1)
        for base in (base_a, base_b):
            check = httpx.get(f"{base}/labels/verify", params={"token": token}, headers=admin, timeout=30).json()
            assert check["valid"] is True and check["dispense_id"] == dispense_id, check


def test_wrong_passwords_count_at_both_servers_and_a_logout_at_one_ends_the_session_at_the_other(two_servers):
    base_a, base_b = two_servers["bases"]
    tag = random.randrange(10**9)
    with transaction(make_session_factory(two_servers["engine"])) as s:
        now = datetime.now(UTC)
        ctx = Ctx(session=s, actor=None, now=now, tz=TZ, secret=SECRET)
        guessed = create_user(ctx, username=f"srv-guess{tag}", password=PASSWORD, role=Role.NURSE).username
        nurse = create_user(ctx, username=f"srv-ui{tag}", password=PASSWORD, role=Role.NURSE).username

    # The failures are counted in the database: half at each server reach the limit together, and
    # then both refuse even the right password.
    for i in range(throttle.USER_LIMIT):
        wrong = httpx.post(f"{(base_a, base_b)[i % 2]}/auth/token", data={"username": guessed, "password": "x"})
        assert wrong.status_code == 401, wrong.text
    for base in (base_a, base_b):
        right = httpx.post(f"{base}/auth/token", data={"username": guessed, "password": PASSWORD}, timeout=30)
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0, right.text

    # A screen session opened at one server works at the other; logging out at the other ends it at both.
    with httpx.Client(base_url=base_a, timeout=30) as at_a, httpx.Client(base_url=base_b, timeout=30) as at_b:
        assert Ui(at_a).login(SimpleNamespace(username=nurse)).status_code == 303
        at_b.cookies.set("dispensing_ui", at_a.cookies["dispensing_ui"], path="/ui")
        ui_b = Ui(at_b)
        assert ui_b.page("/ui/roster", follow_redirects=False).status_code == 200
        time.sleep(0.01)  # the logout is later than the login
        assert ui_b.post("/ui/logout").status_code == 303
        after = at_a.get("/ui/roster", follow_redirects=False)
        assert after.status_code == 303 and after.headers["location"].startswith("/ui/login")


def test_a_server_with_another_secret_refuses_to_start(two_servers):
    other = b"another-secret-" + b"y" * 40
    proc, _ = _start(two_servers["url"], two_servers["data_dir"], other)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    lines = [line for line in out.strip().splitlines() if line.strip()]
    assert len(lines) == 1, out  # one plain line, no traceback
    assert "login_secret" in lines[0] and "DISPENSING_SECRET_KEY" in lines[0]
