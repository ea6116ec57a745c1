"""Measures what two Rasa replicas do to conversations with Rasa's RedisLockStore and with ours.

    . scripts/env.sh && .venv/bin/python deploy/race_demo.py            # both parts, both stores
    .venv/bin/python deploy/race_demo.py --part locks                   # lock stores only (seconds)
    .venv/bin/python deploy/race_demo.py --part servers --stores rasa   # the servers part for one store

Part "locks": two replicas (a thread, an event loop and a store instance each) run
many turns on a few conversations; each turn reads a counter, awaits, and writes it
back inside the lock. Reported: lost counter updates, the most turns seen inside one
conversation's lock at once, and lock errors/timeouts.

Part "servers": the acceptance-test set-up of tests/production (2 action servers, 2 Rasa
replicas on one fresh PostgreSQL database, Redis, deploy/balancer.py), once with
`bot.lock_store.AtomicRedisLockStore` and once with Rasa's `type: redis`. The same burst
load (every message of every conversation at once, through the balancer) and the same
checks on the tracker store and the account tables as tests/production/test_replicas.py.

Needs Redis, PostgreSQL (TEST_POSTGRES_ADMIN_URL, default postgresql://localhost/postgres),
and the trained model. Prints one line per run; docs/deployment.md records the figures.
"""
from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def lock_part(kind: str, redis_url: str, rounds: int) -> None:
    from rasa.core.lock_store import RedisLockStore

    from bot.lock_store import AtomicRedisLockStore
    from tests.production.conftest import ReplicaLockRun, delete_keys, run_replicas

    for round_ in range(rounds):
        prefix = f"demo{secrets.token_hex(4)}"
        if kind == "atomic":
            stores = [AtomicRedisLockStore(url=redis_url, key_prefix=prefix) for _ in range(2)]
        else:
            import urllib.parse

            u = urllib.parse.urlsplit(redis_url)
            stores = [RedisLockStore(host=u.hostname, port=u.port or 6379, db=int(u.path.strip("/") or 0),
                                     key_prefix=prefix) for _ in range(2)]
        run = ReplicaLockRun(stores=stores, tasks_per_replica=30, conversations=3, hold=0.002)
        start = time.monotonic()
        run_replicas(run, timeout=90)
        lost = run.completed - sum(run.counters.values())
        lock_errors = sum(": LockError:" in e for e in run.errors)
        stuck = 60 - run.completed - lock_errors
        print(f"locks  {kind:6} round {round_ + 1}: 60 turns on 3 conversations from 2 replicas, "
              f"{time.monotonic() - start:.1f}s: {run.completed} done ({lost} of their counter updates lost, "
              f"at most {run.max_inside} turns in one lock at once), {lock_errors} LockError, "
              f"{stuck} still waiting after 90 s", flush=True)
        delete_keys(redis_url, prefix)


def server_part(kind: str, conversations: int, messages: int, ordered: bool) -> None:
    from tests.production.conftest import Cluster, check_load, conversation_script, send_burst, send_ordered

    workdir = Path(tempfile.mkdtemp(prefix=f"race-demo-{kind}-"))
    cluster = Cluster(workdir=workdir, lock_kind=kind)
    start = time.monotonic()
    cluster.start()
    print(f"servers {kind}: 2 action servers + 2 Rasa replicas up in {time.monotonic() - start:.0f}s "
          f"(logs in {workdir})", flush=True)
    try:
        scripts = [conversation_script(f"{cluster.run_id}b", k, messages) for k in range(conversations)]
        start = time.monotonic()
        sent = asyncio.run(send_burst(cluster.balancer_url, scripts))
        report = check_load(cluster.database_url, scripts, sent, ordered=False, seconds=time.monotonic() - start)
        print(f"servers {kind:6} burst:   {report.summary()}", flush=True)
        for line in report.details[:10]:
            print(f"    {line}")
        if ordered:
            scripts = [conversation_script(f"{cluster.run_id}o", k, messages) for k in range(conversations)]
            start = time.monotonic()
            sent = asyncio.run(send_ordered(cluster.rasa_urls, scripts))
            report = check_load(cluster.database_url, scripts, sent, ordered=True, seconds=time.monotonic() - start)
            print(f"servers {kind:6} ordered: {report.summary()}", flush=True)
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["locks", "servers", "both"], default="both")
    parser.add_argument("--stores", nargs="+", choices=["atomic", "rasa"], default=["rasa", "atomic"])
    parser.add_argument("--redis-url", default=None, help="default: TEST_REDIS_URL or redis://127.0.0.1:6379/1")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the lock part")
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--messages", type=int, default=20, help="messages per conversation (at most 30)")
    parser.add_argument("--ordered", action="store_true", help="also the sequential alternating load")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers are stopped and the database dropped

    from tests.production.conftest import TEST_REDIS_URL

    redis_url = args.redis_url or TEST_REDIS_URL
    for kind in args.stores:
        if args.part in ("locks", "both"):
            lock_part(kind, redis_url, args.rounds)
        if args.part in ("servers", "both"):
            server_part(kind, args.conversations, args.messages, args.ordered)


if __name__ == "__main__":
    main()
