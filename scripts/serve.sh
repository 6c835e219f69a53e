#!/usr/bin/env bash
# Run the web server, the background worker and the device ingest together (and, with
# JIANGUAN_SIMULATE=1, the device simulator); when any one of them stops, all stop.
set -euo pipefail
HOST=${1:-127.0.0.1}
PORT=${2:-8000}
BIN=.venv/bin
PIDS=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

$BIN/jianguan run_huey --quiet &
PIDS+=($!)
# Devices' messages from MQTT (JIANGUAN_MQTT_URL); acknowledged only once committed.
$BIN/jianguan ingest &
PIDS+=($!)
if [ "${JIANGUAN_SIMULATE:-0}" = 1 ]; then
  SIMULATE_ARGS=()
  if [ -n "${JIANGUAN_SIMULATE_UNIT:-}" ]; then SIMULATE_ARGS+=(--unit "$JIANGUAN_SIMULATE_UNIT"); fi
  $BIN/jianguan simulate devices "${SIMULATE_ARGS[@]}" &
  PIDS+=($!)
fi
echo "jianguan 智慧监管平台: http://$HOST:$PORT  (Ctrl-C to stop)"
# Threaded workers: a live screen's stream holds one thread while it waits (ADR 0006).
$BIN/gunicorn jianguan.wsgi:application --bind "$HOST:$PORT" --workers "${JIANGUAN_WEB_WORKERS:-2}" \
  --worker-class gthread --threads "${JIANGUAN_WEB_THREADS:-16}" \
  --access-logfile - --log-level warning &
PIDS+=($!)
# The first one to stop, for whatever reason, takes the others with it.
wait -n
