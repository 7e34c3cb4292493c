#!/usr/bin/env bash
# Run the whole test suite: sets up .venv (if needed) and runs pytest. Extra arguments go to pytest.
# Uses DATABASE_URL / REDIS_URL when set (CI sets PostgreSQL and Redis), SQLite otherwise.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stale() { for f in requirements.txt requirements-dev.txt requirements/*.txt; do [ "$f" -nt "$1" ] && return 0; done; return 1; }
if ! .venv/bin/python -c "import django, oauth2_provider, mcp, daphne, pytest_django" 2>/dev/null \
   || stale .venv/.dev-requirements-installed; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  touch .venv/.requirements-installed .venv/.dev-requirements-installed
fi
exec .venv/bin/python -m pytest "$@"
