#!/usr/bin/env bash
# One command for a fresh machine: virtualenv, install, migrate, a demo account, index a repository
# (default: this repository's own source; pass a PATH to index another), then serve on
# http://127.0.0.1:8000 with the embedded defaults (SQLite, no other services).
# It serves as soon as the repository is searchable lexically; the server then computes the
# embeddings in the background (index_status and health_check show how much is covered).
set -euo pipefail
cd "$(dirname "$0")"
SOURCE="${1:-$(pwd)}"
PYTHON="${PYTHON:-python3}"
PORT="${MCPRAG_PORT:-8000}"
export MCPRAG_PUBLIC_URL="${MCPRAG_PUBLIC_URL:-http://127.0.0.1:${PORT}}"

if [ ! -d "$SOURCE" ]; then
  echo "demo.sh: $SOURCE is not a directory" >&2
  exit 2
fi
# the console's Re-index (and the index tools) may index the demo's source directory
export MCPRAG_SOURCE_ROOTS="${MCPRAG_SOURCE_ROOTS:-$(cd "$SOURCE" && pwd)}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
stale() { for f in requirements.txt requirements/*.txt; do [ "$f" -nt "$1" ] && return 0; done; return 1; }
if ! .venv/bin/python -c "import django, oauth2_provider, mcp, daphne" 2>/dev/null \
   || stale .venv/.requirements-installed; then
  echo "==> installing requirements (first run takes a minute)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  touch .venv/.requirements-installed
fi
PY=.venv/bin/python
STARTED=$SECONDS
echo "==> migrating the database"
$PY manage.py migrate --noinput >/dev/null
echo "==> demo account"
$PY manage.py create_account demo --email demo@example.com --random-password --tier developer
NAME="$(basename "$(cd "$SOURCE" && pwd)")"
echo "==> indexing $SOURCE as '$NAME'"
$PY manage.py index_repo "$SOURCE" --name "$NAME"
cat <<MSG

Searchable $((SECONDS - STARTED)) s after the install step; embeddings fill in while it serves.
mcprag is starting on ${MCPRAG_PUBLIC_URL}
Connect Claude Code:   claude mcp add --transport http mcprag ${MCPRAG_PUBLIC_URL}/mcp
Sign in as 'demo' with the password printed above when your agent opens the browser.
Stop with Ctrl-C.

MSG
exec $PY -m daphne -b 127.0.0.1 -p "$PORT" mcprag_site.asgi:application
