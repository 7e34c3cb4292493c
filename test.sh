#!/usr/bin/env bash
# Run the whole test suite: sets up .venv (if needed) and runs pytest. Extra arguments go to pytest.
# Uses DATABASE_URL / REDIS_URL when set (CI sets PostgreSQL and Redis), SQLite otherwise.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import django, oauth2_provider, mcp, daphne, pytest_django" 2>/dev/null \
   || [ requirements.txt -nt .venv/.requirements-installed ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  touch .venv/.requirements-installed
fi
exec .venv/bin/python -m pytest "$@"
