"""Serve the API for bench/run.py: loopback only, the benchmark's clock, a bounded lifetime.

Run by bench/run.py as a subprocess:
    python -m bench.server URL --port P --data-dir D --start ISO-DATETIME [--max-seconds S] [--workers N]
"""

import argparse
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn

from api.main import create_app
from bench.generate import SECRET
from dispensing.config import Settings
from dispensing.db import make_engine
from dispensing.runtime import tune_garbage_collector


def make_app():
    """The app for one server process, configured by main() through the environment."""
    url, start = os.environ["BENCH_URL"], datetime.fromisoformat(os.environ["BENCH_START"])
    t0 = time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - t0)

    settings = Settings(database_url=url, secret_key=SECRET.decode(), data_dir=Path(os.environ["BENCH_DATA_DIR"]))
    # Never outlive the benchmark that started us, whatever happens to it.
    watchdog = threading.Timer(float(os.environ["BENCH_MAX_SECONDS"]), lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    app = create_app(settings, engine=make_engine(url), clock=clock)
    tune_garbage_collector()  # as `dispensing serve` does
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--start", required=True, help="the clock's start (aware ISO datetime); it then runs on")
    parser.add_argument("--max-seconds", type=float, default=900, help="exit by itself after this long")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ.update(
        BENCH_URL=args.url,
        BENCH_START=args.start,
        BENCH_DATA_DIR=args.data_dir,
        BENCH_MAX_SECONDS=str(args.max_seconds),
    )
    watchdog = threading.Timer(args.max_seconds + 5, lambda: os._exit(3))  # the supervisor of several workers
    watchdog.daemon = True
    watchdog.start()
    uvicorn.run(
        "bench.server:make_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
