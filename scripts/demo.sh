#!/usr/bin/env bash
# The demo on the embedded default: SQLite + Celery's filesystem broker under var/, one web
# process and one worker, the real yeast genome loaded, a demo login printed.
# Environment: GW_PORT (default 8000). Set DATABASE_URL / CELERY_BROKER_URL to use PostgreSQL / Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
PY=.venv/bin/python
PORT=${GW_PORT:-8000}
export GW_ALLOWED_HOSTS=${GW_ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}

$PY manage.py migrate --noinput -v0
$PY manage.py load_demo

.venv/bin/celery -A genomeweb worker -Q gpu,maintenance -I worker.tasks -B --concurrency=1 \
  -n demo@%h --loglevel=INFO &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
echo "genomeweb is at http://127.0.0.1:${PORT}/  (Ctrl-C stops the web server and the worker)"
.venv/bin/gunicorn genomeweb.wsgi:application --bind "127.0.0.1:${PORT}" --workers 2 \
  --timeout 300 --access-logfile - 
