#!/usr/bin/env bash
# Runs the production profile as plain processes on this machine: N action servers and
# N Rasa replicas on PostgreSQL + Redis (deploy/endpoints.prod.yml), behind the
# round-robin balancer deploy/balancer.py. Ctrl-C stops everything.
#
#   scripts/run_replicas.sh              # 2 + 2 processes, balancer on http://127.0.0.1:5005
#   REPLICAS=3 scripts/run_replicas.sh
#   scripts/run_replicas.sh --smoke      # start, talk to it through the balancer, check, stop
#                                        # (leaves a throwaway team "solo:smoke-…" in the account store)
#
# Environment (defaults in brackets):
#   REPLICAS [2]                 Rasa replicas, and as many action servers
#   DATABASE_URL                 account store [postgresql://localhost/salescoach, created if missing]
#   TRACKER_DATABASE_URL         Rasa's tracker store [$DATABASE_URL]
#   REDIS_URL                    lock store [redis://127.0.0.1:6379/1]
#   LOCK_STORE_KEY_PREFIX        Redis key prefix [salescoach]
#   TICKET_LOCK_LIFETIME         seconds a crashed replica's ticket blocks a conversation [60]
#   ACTION_SERVER_TOKEN          shared secret Rasa -> action servers [random for this run]
#   RABBITMQ_HOST                set it (with RABBITMQ_PORT [5672], RABBITMQ_USERNAME/PASSWORD [guest],
#                                RABBITMQ_QUEUE [rasa_events]) to publish events to RabbitMQ
#   LB_PORT [5005], REPLICA_BASE_PORT [5010], ACTION_BASE_PORT [5060], BIND [127.0.0.1]
# The trained model must exist (models/sales-coach.tar.gz; `make train` builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

SMOKE=0
[[ "${1:-}" == "--smoke" ]] && SMOKE=1
REPLICAS="${REPLICAS:-2}"
MODEL="${MODEL:-models/sales-coach.tar.gz}"
BIND="${BIND:-127.0.0.1}"
LB_PORT="${LB_PORT:-5005}"
REPLICA_BASE_PORT="${REPLICA_BASE_PORT:-5010}"
ACTION_BASE_PORT="${ACTION_BASE_PORT:-5060}"
PY=.venv/bin/python

[[ -f "$MODEL" ]] || { echo "no trained model at $MODEL: run 'make train' first" >&2; exit 1; }

export DATABASE_URL="${DATABASE_URL:-postgresql://localhost/salescoach}"
export TRACKER_DATABASE_URL="${TRACKER_DATABASE_URL:-$DATABASE_URL}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/1}"
export LOCK_STORE_KEY_PREFIX="${LOCK_STORE_KEY_PREFIX:-salescoach}"
export ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$($PY -c 'import secrets; print(secrets.token_urlsafe(32))')}"
PROFILE=deploy/endpoints.prod.yml
if [[ -n "${RABBITMQ_HOST:-}" ]]; then
  export RABBITMQ_PORT="${RABBITMQ_PORT:-5672}" RABBITMQ_USERNAME="${RABBITMQ_USERNAME:-guest}"
  export RABBITMQ_PASSWORD="${RABBITMQ_PASSWORD:-guest}" RABBITMQ_QUEUE="${RABBITMQ_QUEUE:-rasa_events}"
  PROFILE=deploy/endpoints.prod.rabbitmq.yml
fi

# The databases exist and the account store schema is current (once, before any server starts).
$PY - <<'EOF'
import os, sys, urllib.parse
import psycopg2
for url in {os.environ["DATABASE_URL"], os.environ["TRACKER_DATABASE_URL"]}:
    if not url.startswith("postgresql"):
        sys.exit(f"the replicas need a shared PostgreSQL database, not {url}")
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urllib.parse.urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    admin.close()
import redis
redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5).ping()
EOF
$PY -m bot.store.migrate

LOGS=var/log/replicas
mkdir -p "$LOGS"
pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

upstreams=()
for ((i = 0; i < REPLICAS; i++)); do
  aport=$((ACTION_BASE_PORT + i)); rport=$((REPLICA_BASE_PORT + i))
  ACTION_SERVER_HOST="$BIND" ACTION_SERVER_PORT="$aport" $PY -m bot.action_server > "$LOGS/actions$i.log" 2>&1 &
  pids+=($!)
  ACTION_ENDPOINT_URL="http://127.0.0.1:$aport/webhook" $PY -m bot.rasa_server run --model "$MODEL" --enable-api \
    --interface "$BIND" --port "$rport" --endpoints "$PROFILE" --credentials credentials.yml \
    > "$LOGS/rasa$i.log" 2>&1 &
  pids+=($!)
  upstreams+=("http://127.0.0.1:$rport")
done

echo "==> starting $REPLICAS action servers + $REPLICAS Rasa replicas (logs in $LOGS/)"
ready() {
  curl -fsS "http://127.0.0.1:$LB_PORT/balancer/health" >/dev/null 2>&1 || return 1
  for ((i = 0; i < REPLICAS; i++)); do
    curl -fsS "http://127.0.0.1:$((REPLICA_BASE_PORT + i))/status" >/dev/null 2>&1 || return 1
    curl -fsS "http://127.0.0.1:$((ACTION_BASE_PORT + i))/health" >/dev/null 2>&1 || return 1
  done
}
$PY deploy/balancer.py --host "$BIND" --port "$LB_PORT" "${upstreams[@]}" > "$LOGS/balancer.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
  if ready; then
    echo "==> ready: http://127.0.0.1:$LB_PORT/webhooks/rest/webhook -> ${upstreams[*]}"
    if ((SMOKE)); then
      $PY - "$LB_PORT" "$REPLICAS" <<'EOF'
import json, secrets, sys, urllib.request
port, replicas = sys.argv[1], int(sys.argv[2])
me = f"smoke-{secrets.token_hex(4)}"
def say(text):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/rest/webhook", method="POST",
                                 data=json.dumps({"sender": me, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    return " ".join(m.get("text", "") for m in json.load(urllib.request.urlopen(req, timeout=120)))
answers = []
for text in ["新建客户冒烟测试", "冒烟测试的王伟是技术总监，是支持者", "冒烟测试的概况"]:
    answers.append(say(text))
    print(f"  {text} -> {answers[-1][:80]!r}")
assert "王伟" in answers[-1], "the account summary misses the person another replica stored"
health = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/balancer/health"))
assert sum(u["sent"] > 0 for u in health["upstreams"]) == min(3, replicas), health
print(f"==> smoke test passed: {me} answered by {replicas} replicas in turn")
EOF
      exit 0
    fi
    wait -n "${pids[@]}"
    echo "a process stopped; see $LOGS/" >&2
    exit 1
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a process failed to start; see $LOGS/" >&2; tail -n 20 "$LOGS"/*.log >&2; exit 1; }
  done
  sleep 1
done
echo "not ready in time; see $LOGS/" >&2
exit 1
