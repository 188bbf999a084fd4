"""End-to-end set-up: a real uvicorn server on 127.0.0.1 (a free port) with the demo clinic in a temporary
SQLite file, and headless Chromium from Debian (/usr/bin/chromium) driven by Playwright.

The server's clock is a fixed Monday 09:00 in Copenhagen plus the real time elapsed (and whatever a test
adds), so the demo's Monday doses (Antabus too) are due whatever day the suite runs. Without Chromium or
Playwright the tests skip locally and fail in CI (CI=true).
"""

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import SECRET

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
TZ = ZoneInfo("Europe/Copenhagen")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ).astimezone(UTC)


def _missing(why: str) -> None:
    if IN_CI:
        pytest.fail(f"end-to-end tests need {why} in CI (.ci/run installs it)")
    pytest.skip(f"{why} not available: end-to-end browser tests skipped (they run in CI)")


class ServerClock:
    """Monday 09:00 when the server started, moving with real time; tests may jump ahead."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return MONDAY_9 + timedelta(seconds=time.monotonic() - self.started) + self.offset

    def advance(self, **kw) -> None:
        self.offset += timedelta(**kw)


class LiveServer:
    def __init__(self, url: str, app, clock: ServerClock) -> None:
        self.url, self.app, self.clock = url, app, clock

    def session(self):
        return self.app.state.session_factory()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    import uvicorn

    from api.main import create_app
    from dispensing.config import Settings
    from dispensing.db import make_engine, make_session_factory, transaction
    from dispensing.demo import load_demo
    from dispensing.migrate import upgrade_to_head

    tmp = tmp_path_factory.mktemp("e2e")
    settings = Settings(database_url=f"sqlite:///{tmp}/e2e.db", secret_key=SECRET.decode(), data_dir=Path(tmp))
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    clock = ServerClock()
    with transaction(make_session_factory(engine)) as session:
        assert load_demo(session, settings, now=clock())
    app = create_app(settings, engine=engine, clock=clock)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the e2e server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", app, clock)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package")
    if not os.path.exists(CHROMIUM):
        _missing("Debian's chromium (/usr/bin/chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, on a desktop-sized window."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="da-DK")
    context.set_default_timeout(10_000)
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: E2E_SCREENSHOT_DIR if set (to look at them), else the test's tmp dir."""
    out = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out
