#!/usr/bin/env bash
# Sets everything up and runs the bot: action server, Rasa server (REST +
# socket.io), and the web chat page. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/train.sh
source scripts/env.sh

RASA_PORT="${RASA_PORT:-5005}"
ACTION_SERVER_PORT="${ACTION_SERVER_PORT:-5055}"
WEB_PORT="${WEB_PORT:-8000}"
export ACTION_SERVER_PORT

.venv/bin/python -m bot.store.migrate
mkdir -p var/log

# The action server always requires a token: a random one per run unless you set
# ACTION_SERVER_TOKEN. Rasa gets it through a generated endpoints file.
export ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"
ENDPOINTS=var/endpoints.run.yml
( umask 077; .venv/bin/python - "$ENDPOINTS" <<'PY'
import os, sys, yaml
conf = yaml.safe_load(open("endpoints.yml"))
conf["action_endpoint"] = {"url": f"http://127.0.0.1:{os.environ['ACTION_SERVER_PORT']}/webhook",
                           "token": os.environ["ACTION_SERVER_TOKEN"]}
open(sys.argv[1], "w").write(yaml.safe_dump(conf, sort_keys=False))
PY
)
# Rasa's HTTP API listens on 127.0.0.1. Its conversation and model endpoints are admin-only
# (bot/http_guard.py): they need RASA_API_TOKEN, a random one per run unless you set it, kept
# in var/rasa-api-token for this machine's user. /model/parse and the REST webhook serve this
# machine without a token, but never a web page of another origin.
export RASA_API_TOKEN="${RASA_API_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}"
( umask 077; printf '%s\n' "$RASA_API_TOKEN" > var/rasa-api-token )
pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

.venv/bin/python -m bot.action_server > var/log/actions.log 2>&1 &
pids+=($!)
.venv/bin/python -m bot.rasa_server run --model models/sales-coach.tar.gz --enable-api --interface 127.0.0.1 \
  --port "$RASA_PORT" --credentials credentials.yml --endpoints "$ENDPOINTS" > var/log/rasa.log 2>&1 &
pids+=($!)
.venv/bin/python -m bot.webpage --port "$WEB_PORT" --rasa "http://127.0.0.1:$RASA_PORT" > var/log/web.log 2>&1 &
pids+=($!)

echo "==> waiting for the servers (logs in var/log/)"
for _ in $(seq 1 180); do
  if curl -fsS "http://127.0.0.1:$RASA_PORT/status" >/dev/null 2>&1 \
     && curl -fsS "http://127.0.0.1:$ACTION_SERVER_PORT/health" >/dev/null 2>&1; then
    echo "==> ready"
    echo "    web chat:      http://127.0.0.1:$WEB_PORT/"
    echo "    REST channel:  curl -s http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook -H 'content-type: application/json' -d '{\"sender\":\"me\",\"message\":\"hi\"}'"
    echo "    terminal chat: make shell   (in another terminal)"
    echo "    HTTP API (admin): curl -H \"Authorization: Bearer \$(cat var/rasa-api-token)\" http://127.0.0.1:$RASA_PORT/conversations/me/tracker"
    wait -n "${pids[@]}"
    echo "a server stopped; see var/log/" >&2
    exit 1
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server failed to start; see var/log/" >&2; tail -n 20 var/log/*.log >&2; exit 1; }
  done
  sleep 1
done
echo "servers did not become ready in time; see var/log/" >&2
exit 1
