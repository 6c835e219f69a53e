#!/usr/bin/env bash
# Run the web server and the background worker together; stopping one stops both.
set -euo pipefail
HOST=${1:-127.0.0.1}
PORT=${2:-8000}
BIN=.venv/bin
$BIN/jianguan run_huey --quiet &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "jianguan 智慧监管平台: http://$HOST:$PORT  (Ctrl-C to stop)"
# Threaded workers: a live screen's stream holds one thread while it waits (ADR 0006).
$BIN/gunicorn jianguan.wsgi:application --bind "$HOST:$PORT" --workers "${JIANGUAN_WEB_WORKERS:-2}" \
  --worker-class gthread --threads "${JIANGUAN_WEB_THREADS:-16}" \
  --access-logfile - --log-level warning
