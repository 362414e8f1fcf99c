#!/usr/bin/env bash
# Development server: the django-tasks database worker in the background and the web server in
# the foreground of this script. Ctrl-C / SIGTERM (or either process dying) stops both.
# Environment: PORT (default 8000), HOST (default 127.0.0.1), PY (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
pids=()

stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# The worker processes every queue; it finishes the running task when told to stop.
"$PY" manage.py db_worker --queue-name '*' --no-reload &
pids+=($!)

# Static files come through WhiteNoise (WHITENOISE_USE_FINDERS), so DEBUG may stay off.
echo "Terpadu: http://$HOST:$PORT/  (Ctrl-C stops the web server and the task worker)"
"$PY" manage.py runserver --noreload "$HOST:$PORT" &
pids+=($!)

# Return as soon as either one exits: a dead worker or a busy port must not go unnoticed.
set +e
wait -n "${pids[@]}"
status=$?
set -e
echo "serve.sh: a process exited with status $status; stopping the other" >&2
exit "$status"
