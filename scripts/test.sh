#!/usr/bin/env bash
# Install the project with its test extras into .venv (first run only) and run the whole suite.
#   bash scripts/test.sh                      # SQLite
#   DISPENSING_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test bash scripts/test.sh
# Extra arguments go to pytest (e.g. -k dispense, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
