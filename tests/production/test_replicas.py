"""Acceptance: two Rasa replicas on the production profile lose and duplicate nothing.

Two action servers and two Rasa replicas (same model) share a fresh PostgreSQL database
(tracker store + account store), the atomic Redis lock store under a private key prefix
and a RabbitMQ queue (event broker); deploy/balancer.py spreads requests round-robin.
"""
from __future__ import annotations

import time

import pytest

from tests.conftest import MODEL_PATH
from tests.production.conftest import (
    Cluster,
    check_load,
    conversation_script,
    drain_queue,
    redis_client,
    send_burst,
    send_ordered,
    tracker_events,
)
from tests.servers import http_json

pytestmark = [pytest.mark.slow, pytest.mark.model, pytest.mark.postgres]

CONVERSATIONS = 10
MESSAGES = 24
BURST_CONVERSATIONS = 8
BURST_MESSAGES = 16


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_url):  # noqa: ANN001, ANN201
    if not MODEL_PATH.exists():
        pytest.fail(f"trained model missing at {MODEL_PATH}: run scripts/train.sh (make test does)")
    c = Cluster(workdir=tmp_path_factory.mktemp("replicas"), redis_url=redis_url, replicas=2, action_servers=2)
    c.broker_queue = f"salescoach_test_{c.run_id}"
    c.start()
    yield c
    c.stop()


async def test_sequential_conversations_alternating_replicas_keep_every_message_in_order(cluster):
    """10 conversations at once; each sends 24 messages one after another, alternating the two replicas."""
    scripts = [conversation_script(f"{cluster.run_id}o", k, MESSAGES) for k in range(CONVERSATIONS)]
    start = time.monotonic()
    sent = await send_ordered(cluster.rasa_urls, scripts)
    report = check_load(cluster.database_url, scripts, sent, ordered=True, seconds=time.monotonic() - start)
    print(report.summary())
    assert report.failed_requests == 0 and report.empty_replies == 0, report.summary()
    assert report.events_lost == 0 and report.events_duplicated == 0, report.details
    assert report.conversations_out_of_order == 0 and report.turns_incomplete == 0
    assert report.facts_missing == 0 and report.facts_duplicated == 0, report.summary()
    assert report.facts_expected == sum(1 + len(s.people) + s.needs for s in scripts) >= 200
    # the conversations rolled over into new sessions several times on the way (SESSION_MAX_EVENTS=60)
    events = tracker_events(cluster.database_url, [s.sender for s in scripts])
    assert all(sum(1 for kind, _, _ in e if kind == "session_started") >= 3 for e in events.values())

    # both replicas see the same conversation, and it carried its context across them
    for script in scripts[:2]:
        views = [http_json("GET", f"{url}/conversations/{script.sender}/tracker",
                           headers={"Authorization": f"Bearer {cluster.members[0].api_token}"})
                 for url in cluster.rasa_urls]
        assert views[0]["events"] == views[1]["events"]
        assert views[0]["slots"]["current_account"] == script.account

    # the event broker published every user message exactly once. Two replicas publish
    # concurrently, so queue order is not conversation order: the event timestamps are.
    events = await drain_queue(cluster.broker_queue)
    for script in scripts:
        users = [e for e in events if e.get("event") == "user" and e.get("sender_id") == script.sender]
        assert sorted(e["text"] for e in users) == sorted(script.messages)
        assert [e["text"] for e in sorted(users, key=lambda e: e["timestamp"])] == script.messages


async def test_a_burst_of_concurrent_messages_per_conversation_loses_nothing(cluster):
    """8 conversations × 16 messages, all at once through the balancer (order is not defined, loss is)."""
    scripts = [conversation_script(f"{cluster.run_id}b", k, BURST_MESSAGES) for k in range(BURST_CONVERSATIONS)]
    start = time.monotonic()
    sent = await send_burst(cluster.balancer_url, scripts)
    report = check_load(cluster.database_url, scripts, sent, ordered=False, seconds=time.monotonic() - start)
    print(report.summary())
    assert report.failed_requests == 0 and report.empty_replies == 0, report.summary()
    assert report.events_lost == 0 and report.events_duplicated == 0, report.details
    assert report.turns_incomplete == 0
    assert report.facts_missing == 0 and report.facts_duplicated == 0, report.summary()

    health = await _balancer_health(cluster)
    assert all(u["sent"] > 0 for u in health["upstreams"]), health  # both replicas took part

    # no lock is left behind: only the per-conversation ticket counters, which expire
    client = redis_client(cluster.redis_url)
    keys = [k.decode() for k in client.scan_iter(match=f"{cluster.key_prefix}:lock:*", count=1000)]
    assert keys and all(k.endswith(":seq") and client.pttl(k) > 0 for k in keys), keys[:5]

    await drain_queue(cluster.broker_queue, idle=0.5)  # leave the queue empty


async def _balancer_health(cluster: Cluster) -> dict:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{cluster.balancer_url}/balancer/health") as r:
            return await r.json()
