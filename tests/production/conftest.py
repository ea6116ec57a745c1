"""The production profile on real services: Redis lock store, PostgreSQL, RabbitMQ, several Rasa replicas.

Besides the fixtures, this module holds the load harness that `deploy/race_demo.py`
reuses: `Cluster` (N action servers + N Rasa replicas on a fresh PostgreSQL database,
the Redis lock store under a private key prefix, the round-robin balancer), the
conversation scripts, the senders and the checks on the tracker store and the
account tables.
"""
from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest

from tests.conftest import MODEL_PATH
from tests.servers import REPO, VENV_BIN, Servers, base_env, free_port, wait_until

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://localhost/postgres")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
PROFILE = REPO / "deploy" / "endpoints.prod.yml"
PROFILE_RABBITMQ = REPO / "deploy" / "endpoints.prod.rabbitmq.yml"


# -- Redis --------------------------------------------------------------------------------------------------------

def redis_client(url: str = TEST_REDIS_URL):  # noqa: ANN201
    import redis

    return redis.Redis.from_url(url)


def delete_keys(url: str, prefix: str) -> None:
    client = redis_client(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis_client().ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis is required for these tests and is not reachable at {TEST_REDIS_URL}: {exc}")
    return TEST_REDIS_URL


@pytest.fixture
def key_prefix(redis_url: str):  # noqa: ANN201
    """A key prefix of this test alone (alphanumeric, as Rasa's own store requires); its keys are deleted after."""
    prefix = f"t{secrets.token_hex(6)}"
    yield prefix
    delete_keys(redis_url, prefix)


@pytest.fixture
def atomic_store_factory(redis_url: str, key_prefix: str):  # noqa: ANN201
    from bot.lock_store import AtomicRedisLockStore

    def make(**kwargs: Any) -> AtomicRedisLockStore:
        return AtomicRedisLockStore(url=redis_url, key_prefix=key_prefix, **{"lifetime": 30, **kwargs})

    return make


# -- two "replicas" of a lock store: one thread + event loop + store instance each --------------------------------

@dataclass
class ReplicaLockRun:
    """Many tasks per replica take the lock of a few conversations and increment a counter inside it."""

    stores: list[Any]
    tasks_per_replica: int
    conversations: int = 1
    hold: float = 0.002  # the deliberate await between reading and writing the counter
    entered: list[int] = field(default_factory=list)  # tickets in the order they entered (1 conversation)
    counters: dict[str, int] = field(default_factory=dict)
    inside: Counter = field(default_factory=Counter)
    max_inside: int = 0
    completed: int = 0  # turns that ran to the end inside the lock
    errors: list[str] = field(default_factory=list)

    async def turn(self, store: Any, conversation: str) -> None:
        async with store.lock(conversation) as lock:
            self.inside[conversation] += 1
            self.max_inside = max(self.max_inside, self.inside[conversation])
            self.entered.append(lock.tickets[0].number)
            value = self.counters.get(conversation, 0)
            await asyncio.sleep(self.hold)
            self.counters[conversation] = value + 1
            self.inside[conversation] -= 1
            self.completed += 1


def run_replicas(run: ReplicaLockRun, timeout: float = 120) -> ReplicaLockRun:
    """Runs every replica's tasks at the same moment, one thread per replica."""
    start = threading.Barrier(len(run.stores))

    def replica(index: int, store: Any) -> None:
        async def main() -> None:
            first = index * run.tasks_per_replica
            tasks = [run.turn(store, f"conv-{(first + i) % run.conversations}") for i in range(run.tasks_per_replica)]
            for result in await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout):
                if isinstance(result, BaseException):
                    run.errors.append(f"replica {index}: {type(result).__name__}: {result}")

        start.wait()
        try:
            asyncio.run(main())
        except BaseException as e:  # noqa: BLE001 - reported by the test
            run.errors.append(f"replica {index}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=replica, args=(i, s)) for i, s in enumerate(run.stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return run


# -- PostgreSQL -----------------------------------------------------------------------------------------------------

def _admin_connection():  # noqa: ANN202
    import psycopg2

    conn = psycopg2.connect(POSTGRES_ADMIN_URL)
    conn.autocommit = True
    return conn


def create_database() -> tuple[str, str]:
    """A fresh database `salescoach_test_<random>`; returns (name, SQLAlchemy URL)."""
    name = f"salescoach_test_{secrets.token_hex(5)}"
    conn = _admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    parts = urllib.parse.urlsplit(POSTGRES_ADMIN_URL)
    return name, urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(name: str) -> None:
    conn = _admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


# -- the servers ----------------------------------------------------------------------------------------------------

@dataclass
class ProductionServers(Servers):
    """An action server and a Rasa replica on the production profile (deploy/endpoints.prod*.yml).

    `lock_kind` "atomic" runs the profile file as it is; "rasa" swaps its lock store for
    Rasa's stock `RedisLockStore` on the same Redis (for the comparison).
    """

    lock_kind: str = "atomic"
    profile: Path = PROFILE

    def endpoints_file(self) -> Path:
        if self.lock_kind == "atomic":
            return self.profile
        if self.lock_kind != "rasa":
            raise ValueError(self.lock_kind)
        redis_url = urllib.parse.urlsplit(self.extra_env["REDIS_URL"])
        stock = ("lock_store:\n  type: redis\n"
                 f"  url: {redis_url.hostname}\n  port: {redis_url.port or 6379}\n"
                 f"  db: {int(redis_url.path.strip('/') or 0)}\n"
                 f"  key_prefix: {self.extra_env['LOCK_STORE_KEY_PREFIX']}\n")
        text = re.sub(r"^lock_store:\n(?:[ #].*\n|\n)*", stock, self.profile.read_text(), flags=re.M)
        path = self.workdir / "endpoints.yml"
        path.write_text(text)
        return path


@dataclass
class Cluster:
    """N action servers + N Rasa replicas sharing PostgreSQL and Redis, behind deploy/balancer.py."""

    workdir: Path
    lock_kind: str = "atomic"
    replicas: int = 2
    action_servers: int = 2
    broker_queue: Optional[str] = None  # set: the RabbitMQ profile, publishing to this queue
    redis_url: str = TEST_REDIS_URL
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    key_prefix: str = field(default_factory=lambda: f"salescoachtest{secrets.token_hex(4)}")
    database_name: str = ""
    database_url: str = ""
    members: list[ProductionServers] = field(default_factory=list)
    balancer: Optional[subprocess.Popen] = None
    balancer_port: int = field(default_factory=free_port)

    @property
    def balancer_url(self) -> str:
        return f"http://127.0.0.1:{self.balancer_port}"

    @property
    def rasa_urls(self) -> list[str]:
        return [m.rasa_url for m in self.members]

    def start(self) -> Cluster:
        from bot.store.migrate import upgrade

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_name, self.database_url = create_database()
        upgrade(self.database_url)  # once, before the action servers (each also runs it at start)
        env = {"TRACKER_DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
               "LOCK_STORE_KEY_PREFIX": self.key_prefix, "ACTION_SERVER_TOKEN": self.token,
               "RASA_API_TOKEN": "api-" + self.token,
               "CHART_DIR": str(self.workdir / "charts"), "SANIC_WORKERS": "1",
               # sessions roll over every ~6 turns (default 300 events), so the replicas also
               # start new sessions mid-conversation while both serve it (bot/performance.py)
               "SESSION_MAX_EVENTS": "60"}
        if self.broker_queue:
            amqp = urllib.parse.urlsplit(RABBITMQ_URL)
            env.update(RABBITMQ_HOST=amqp.hostname or "localhost", RABBITMQ_PORT=str(amqp.port or 5672),
                       RABBITMQ_USERNAME=urllib.parse.unquote(amqp.username or "guest"),
                       RABBITMQ_PASSWORD=urllib.parse.unquote(amqp.password or "guest"),
                       RABBITMQ_QUEUE=self.broker_queue)
        profile = PROFILE_RABBITMQ if self.broker_queue else PROFILE
        for i in range(self.replicas):
            member = ProductionServers(workdir=self.workdir / f"replica{i}", model=MODEL_PATH,
                                       database_url=self.database_url, tracker_db=self.workdir / "unused.db",
                                       extra_env=dict(env), lock_kind=self.lock_kind, profile=profile)
            member.workdir.mkdir(parents=True, exist_ok=True)
            self.members.append(member)
        for i, member in enumerate(self.members):  # replica i calls action server i mod n
            member.extra_env["ACTION_ENDPOINT_URL"] = f"{self.members[i % self.action_servers].action_url}/webhook"
        try:
            with ThreadPoolExecutor(len(self.members) + self.action_servers) as pool:  # all at once
                starts = [pool.submit(m.start_actions) for m in self.members[: self.action_servers]]
                starts += [pool.submit(m.start_rasa) for m in self.members]
                for started in starts:
                    started.result()
            log = self.workdir / "balancer.log"
            self.balancer = subprocess.Popen(
                [str(VENV_BIN / "python"), str(REPO / "deploy" / "balancer.py"), "--port", str(self.balancer_port),
                 *self.rasa_urls], cwd=REPO, env=base_env(), stdout=log.open("w"), stderr=subprocess.STDOUT)
            wait_until(f"{self.balancer_url}/balancer/health", self.balancer, log, timeout=30)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.balancer and self.balancer.poll() is None:
            self.balancer.terminate()
            self.balancer.wait(timeout=10)
        with ThreadPoolExecutor(max(1, len(self.members))) as pool:
            list(pool.map(lambda m: m.stop_all(), self.members))
        if self.database_name:
            drop_database(self.database_name)
        delete_keys(self.redis_url, self.key_prefix)
        if self.broker_queue:
            asyncio.run(delete_queue(self.broker_queue))


# -- the conversations --------------------------------------------------------------------------------------------

ZH_PEOPLE = ["王伟", "张伟", "刘洋", "陈静", "赵磊", "周杰", "吴刚", "徐丽", "孙强", "马超", "朱红", "胡军", "何平",
             "高翔", "林涛"]
EN_PEOPLE = ["Maria Lopez", "John Smith", "Anna Berg", "Peter Chen", "Laura King", "Tom Baker", "Emma Stone",
             "David Park", "Sarah Connor", "Mark Twain", "Lucy Gray", "Oscar Wilde", "Nina Simone", "Paul Klee",
             "Rita Moreno"]
ZH_NEEDS = ["降低IT运维成本", "缩短交付周期", "减少停机时间", "提高良品率", "统一数据平台", "降低能耗",
            "提升客户满意度", "加快新品上市", "减少库存积压", "降低采购成本"]
EN_NEEDS = ["cutting IT operations cost", "shorter delivery times", "less downtime", "higher yield",
            "one data platform", "lower energy use", "happier customers", "faster product launches",
            "smaller inventory", "cheaper purchasing"]


@dataclass
class Script:
    """One conversation: an account, its people and needs, a few read-backs (all texts distinct)."""

    sender: str
    account: str
    messages: list[str]
    people: list[str]
    needs: int


def conversation_script(run_id: str, k: int, length: int = 30) -> Script:
    """Conversation `k` (Chinese when even, English when odd) of at most 30 messages, account creation first."""
    account = f"ReplicaCo{k}"
    if k % 2 == 0:
        create = f"新建客户{account}"
        people = [(n, f"{account}的{n}是技术总监，是支持者") for n in ZH_PEOPLE]
        needs = [f"{account}的隐性需求是{d}" for d in ZH_NEEDS]
        reads = [f"{account}的概况", "我的客户有哪些", f"{account}有什么风险", f"{account}下一步怎么做"]
    else:
        create = f"Add account {account}"
        people = [(n, f"{n} is the CFO at {account}, a supporter with 40% influence") for n in EN_PEOPLE]
        needs = [f"{account}'s implicit need is {d}" for d in EN_NEEDS]
        reads = [f"account summary for {account}", "list my accounts", f"any risks at {account}?",
                 f"what's next on {account}"]
    budget = length - 1
    n_people = min(len(people), max(0, budget * 15 // 29))
    n_needs = min(len(needs), max(0, (budget - n_people) * 10 // 14))
    n_reads = min(len(reads), budget - n_people - n_needs)
    kinds = [[m for _, m in people[:n_people]], needs[:n_needs], reads[:n_reads]]
    body = [kind[i] for i in range(max(map(len, kinds))) for kind in kinds if i < len(kind)]  # interleaved
    return Script(sender=f"rep-{run_id}-{k}", account=account, messages=[create, *body],
                  people=[n for n, _ in people[:n_people]], needs=n_needs)


# -- sending --------------------------------------------------------------------------------------------------------

@dataclass
class Sent:
    sender: str
    text: str
    status: int
    replies: list[dict[str, Any]]
    seconds: float


async def post(session: Any, base_url: str, sender: str, text: str) -> Sent:
    start = time.monotonic()
    try:
        async with session.post(f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
            body = await r.json(content_type=None) if r.status == 200 else []
            return Sent(sender, text, r.status, body or [], time.monotonic() - start)
    except Exception as e:  # noqa: BLE001 - counted as a failed request
        return Sent(sender, text, -1, [{"error": repr(e)}], time.monotonic() - start)


def _client_session():  # noqa: ANN202
    import aiohttp

    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300),
                                 connector=aiohttp.TCPConnector(limit=0))


async def send_ordered(urls: list[str], scripts: list[Script]) -> list[Sent]:
    """Conversations run concurrently; within one, messages go one after another, alternating replicas."""
    async with _client_session() as session:
        async def conversation(k: int, script: Script) -> list[Sent]:
            out = []
            for i, text in enumerate(script.messages):
                out.append(await post(session, urls[(k + i) % len(urls)], script.sender, text))
            return out

        results = await asyncio.gather(*(conversation(k, s) for k, s in enumerate(scripts)))
    return [s for conv in results for s in conv]


async def send_burst(url: str, scripts: list[Script]) -> list[Sent]:
    """The account creation first, then every other message of every conversation at the same moment."""
    async with _client_session() as session:
        first = await asyncio.gather(*(post(session, url, s.sender, s.messages[0]) for s in scripts))
        rest = await asyncio.gather(*(post(session, url, s.sender, text) for s in scripts for text in s.messages[1:]))
    return list(first) + list(rest)


# -- checks ---------------------------------------------------------------------------------------------------------

def _engine(database_url: str):  # noqa: ANN202
    from sqlalchemy import create_engine

    return create_engine(database_url, future=True)


def tracker_events(database_url: str, senders: list[str]) -> dict[str, list[tuple[str, Optional[str], Any]]]:
    """The tracker store's events (table `events`) per sender, in stored order: (type, action name, text)."""
    import json

    from sqlalchemy import bindparam, text

    query = text("SELECT sender_id, type_name, action_name, data FROM events WHERE sender_id IN :senders "
                 "ORDER BY id").bindparams(bindparam("senders", expanding=True))
    out: dict[str, list[tuple[str, Optional[str], Any]]] = {s: [] for s in senders}
    engine = _engine(database_url)
    with engine.connect() as conn:
        for sender, type_name, action_name, data in conn.execute(query, {"senders": senders}):
            out[sender].append((type_name, action_name, json.loads(data).get("text")))
    engine.dispose()
    return out


def tracker_user_texts(database_url: str, senders: list[str]) -> dict[str, list[str]]:
    """The user messages in the tracker store, per sender, in stored order."""
    return {s: [t for kind, _, t in events if kind == "user"]
            for s, events in tracker_events(database_url, senders).items()}


def incomplete_turns(events: list[tuple[str, Optional[str], Any]]) -> int:
    """User messages not followed by a bot answer and `action_listen` before the next user message."""
    bad, turn = 0, None
    for kind, action, _ in [*events, ("user", None, None)]:
        if kind == "user":
            if turn is not None and not (turn["bot"] and turn["last"] == "action_listen"):
                bad += 1
            turn = {"bot": False, "last": None}
        elif turn is not None:
            turn["bot"] = turn["bot"] or kind == "bot"
            if kind == "action":
                turn["last"] = action
    return bad


def account_facts(database_url: str, senders: list[str]) -> dict[str, dict[str, list[str]]]:
    """Accounts, stakeholders and needs in the account store, per sender (each REST sender is a team)."""
    from sqlalchemy import text

    out: dict[str, dict[str, list[str]]] = {s: {"accounts": [], "people": [], "needs": []} for s in senders}
    queries = {
        "accounts": "SELECT t.key, a.name FROM accounts a JOIN teams t ON t.id = a.team_id",
        "people": "SELECT t.key, s.name FROM stakeholders s JOIN teams t ON t.id = s.team_id",
        "needs": "SELECT t.key, n.description FROM needs n JOIN teams t ON t.id = n.team_id",
    }
    engine = _engine(database_url)
    with engine.connect() as conn:
        for kind, sql in queries.items():
            for team_key, value in conn.execute(text(sql)):
                sender = team_key.removeprefix("solo:")
                if sender in out:
                    out[sender][kind].append(value)
    engine.dispose()
    return out


@dataclass
class LoadReport:
    """What a load did to the tracker store and the account tables."""

    messages: int = 0
    failed_requests: int = 0
    empty_replies: int = 0
    events_lost: int = 0           # sent user messages missing from the tracker store
    events_lost_answered: int = 0  # ... of which the bot had answered (lost silently, not refused)
    events_duplicated: int = 0     # user messages stored more than once
    conversations_out_of_order: int = 0
    turns_incomplete: int = 0      # user messages without a stored answer + action_listen
    facts_expected: int = 0
    facts_missing: int = 0
    facts_duplicated: int = 0
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.messages} messages in {self.seconds:.0f}s: {self.events_lost} user events lost "
                f"({self.events_lost_answered} of them answered), "
                f"{self.events_duplicated} duplicated, {self.conversations_out_of_order} conversations out of "
                f"order, {self.turns_incomplete} turns without a stored answer; facts {self.facts_missing} "
                f"missing / {self.facts_duplicated} duplicated of {self.facts_expected}; {self.failed_requests} "
                f"failed requests, {self.empty_replies} empty replies")


def check_load(database_url: str, scripts: list[Script], sent: list[Sent], ordered: bool,
               seconds: float = 0.0) -> LoadReport:
    report = LoadReport(messages=len(sent), seconds=seconds)
    report.failed_requests = sum(s.status != 200 for s in sent)
    report.empty_replies = sum(s.status == 200 and not s.replies for s in sent)
    senders = [s.sender for s in scripts]
    events = tracker_events(database_url, senders)
    stored = {s: [t for kind, _, t in e if kind == "user"] for s, e in events.items()}
    facts = account_facts(database_url, senders)
    for script in scripts:
        got, want = Counter(stored[script.sender]), Counter(script.messages)
        missing = want - got
        lost = sum(missing.values())
        report.events_lost += lost
        report.events_lost_answered += sum(1 for x in sent if x.sender == script.sender and x.replies
                                           and x.status == 200 and missing[x.text] > 0)
        report.events_duplicated += sum((got - want).values())
        if lost:
            report.details.append(f"{script.sender}: {lost} of {len(script.messages)} user messages missing")
        if ordered and stored[script.sender] != script.messages:
            report.conversations_out_of_order += 1
        report.turns_incomplete += incomplete_turns(events[script.sender])
        f = facts[script.sender]
        report.facts_expected += 1 + len(script.people) + script.needs
        report.facts_missing += (script.account not in f["accounts"]) + len(set(script.people) - set(f["people"]))
        report.facts_missing += max(0, script.needs - len(set(f["needs"])))
        for kind in ("accounts", "people", "needs"):
            report.facts_duplicated += len(f[kind]) - len(set(f[kind]))
        unexpected = set(f["accounts"]) - {script.account}
        if unexpected:
            report.details.append(f"{script.sender}: unexpected accounts {sorted(unexpected)}")
    return report


# -- RabbitMQ -------------------------------------------------------------------------------------------------------

async def drain_queue(queue_name: str, idle: float = 2.0) -> list[dict[str, Any]]:
    """Every message in `queue_name` (JSON events), until it stays empty for `idle` seconds."""
    import json

    import aio_pika

    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    out: list[dict[str, Any]] = []
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            out.append(json.loads(message.body))
            quiet_since = time.monotonic()
    finally:
        await connection.close()
    return out


async def delete_queue(queue_name: str) -> None:
    import aio_pika

    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    try:
        channel = await connection.channel()
        await channel.queue_delete(queue_name)
    except Exception:  # noqa: BLE001, S110 - already gone
        pass
    finally:
        await connection.close()
