"""`bot.lock_store.AtomicRedisLockStore` against the real Redis, with two store instances as two replicas.

Each "replica" is a thread with its own event loop and its own Redis connection, so
the two interleave at the Redis level the way two Rasa processes do.
"""
from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore
from tests.production.conftest import ReplicaLockRun, run_replicas


def test_tickets_are_unique_and_gapless_when_two_replicas_draw_at_once(atomic_store_factory):
    stores = [atomic_store_factory(), atomic_store_factory()]
    tickets: list[int] = []
    guard = threading.Lock()

    def draw(store: AtomicRedisLockStore) -> None:
        mine = [store.issue_ticket("conv") for _ in range(100)]
        with guard:
            tickets.extend(mine)

    threads = [threading.Thread(target=draw, args=(stores[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(tickets) == list(range(1, 801))
    assert [t.number for t in stores[0].get_lock("conv").tickets] == list(range(1, 801))


def test_turns_follow_ticket_order_across_two_replicas(atomic_store_factory):
    run = ReplicaLockRun(stores=[atomic_store_factory(), atomic_store_factory()], tasks_per_replica=60,
                         conversations=1)
    run_replicas(run)
    assert not run.errors
    assert len(run.entered) == 120
    assert run.entered == sorted(run.entered), "a later ticket was served before an earlier one"


def test_mutual_exclusion_never_loses_an_update(atomic_store_factory):
    run = ReplicaLockRun(stores=[atomic_store_factory(), atomic_store_factory()], tasks_per_replica=80,
                         conversations=3)
    run_replicas(run)
    assert not run.errors
    assert run.max_inside == 1
    assert run.counters == {f"conv-{i}": 160 // 3 + (1 if i < 160 % 3 else 0) for i in range(3)}


def test_an_expired_ticket_of_a_crashed_replica_lets_the_next_one_through(atomic_store_factory):
    crashed, alive = atomic_store_factory(lifetime=1), atomic_store_factory(lifetime=1)
    crashed.issue_ticket("conv")  # then the replica dies: it never renews or releases the ticket

    async def take() -> float:
        start = time.monotonic()
        async with alive.lock("conv"):
            return time.monotonic() - start

    waited = asyncio.run(take())
    assert 0.8 <= waited < 2.0
    assert alive.get_lock("conv") is None  # nothing left behind


def test_a_crashed_waiter_in_the_middle_of_the_queue_is_skipped(atomic_store_factory):
    store = atomic_store_factory(lifetime=1)
    order: list[str] = []

    async def scenario() -> None:
        async with store.lock("conv"):
            store.issue_ticket("conv")  # a waiter whose replica dies right away
            waiter = asyncio.create_task(_enter(store, "conv", order, "next"))
            await asyncio.sleep(0.2)
            order.append("first")
        await asyncio.wait_for(waiter, 5)

    start = time.monotonic()
    asyncio.run(scenario())
    assert order == ["first", "next"]
    assert time.monotonic() - start < 3


async def _enter(store: LockStore, conversation: str, order: list[str], name: str) -> None:
    async with store.lock(conversation):
        order.append(name)


def test_live_holders_and_waiters_keep_their_tickets_beyond_the_lifetime(atomic_store_factory):
    """Leases are renewed: a turn slower than the lifetime, or a long queue, does not let anyone jump in."""
    stores = [atomic_store_factory(lifetime=1), atomic_store_factory(lifetime=1)]
    inside, overlaps, done = [0], [0], []

    async def slow_turn(store: AtomicRedisLockStore, name: str) -> None:
        async with store.lock("conv"):
            inside[0] += 1
            overlaps[0] += inside[0] > 1
            await asyncio.sleep(0.7)
            inside[0] -= 1
            done.append(name)

    async def scenario() -> None:
        await asyncio.gather(*(slow_turn(stores[i % 2], f"t{i}") for i in range(4)))

    start = time.monotonic()
    asyncio.run(scenario())  # 4 turns of 0.7 s: the last one waits 2.1 s with a 1 s lifetime
    assert sorted(done) == ["t0", "t1", "t2", "t3"]
    assert overlaps[0] == 0
    assert time.monotonic() - start >= 2.8

    async def very_slow() -> list[str]:
        seen: list[str] = []

        async def holder() -> None:
            async with stores[0].lock("conv2"):
                await asyncio.sleep(2.5)  # 2.5 lifetimes, renewed by the heartbeat
                seen.append("holder done")

        async def other() -> None:
            await asyncio.sleep(0.1)
            async with stores[1].lock("conv2"):
                seen.append("other in")

        await asyncio.gather(holder(), other())
        return seen

    assert asyncio.run(very_slow()) == ["holder done", "other in"]


def test_a_ticket_that_expired_while_waiting_raises_lock_error(atomic_store_factory):
    store = atomic_store_factory(lifetime=1)
    holder = store.issue_ticket("conv")
    waiter = store.issue_ticket("conv")
    assert store.try_acquire("conv", holder) == 0
    assert store.try_acquire("conv", waiter) == 1
    time.sleep(1.2)  # the waiter's replica stalled: nobody renewed it
    assert store.try_acquire("conv", waiter) == -1
    with pytest.raises(LockError):
        asyncio.run(_expired_wait(store))


async def _expired_wait(store: AtomicRedisLockStore) -> None:
    await store._wait_for_turn("conv", 999, 1.0, 0.01)


def test_rasa_lock_store_api(atomic_store_factory):
    store = atomic_store_factory(lifetime=30)
    assert store.get_lock("c") is None and not store.is_someone_waiting("c")
    first, second = store.issue_ticket("c"), store.issue_ticket("c")
    lock = store.get_lock("c")
    assert [t.number for t in lock.tickets] == [first, second]
    assert not lock.is_locked(first) and lock.is_locked(second)
    assert all(time.time() + 28 < t.expires <= time.time() + 31 for t in lock.tickets)
    assert store.is_someone_waiting("c")

    store.finish_serving("c", first)
    assert [t.number for t in store.get_lock("c").tickets] == [second]
    store.cleanup("c", second)
    assert store.get_lock("c") is None and not store.is_someone_waiting("c")
    assert store.issue_ticket("c") == second + 1  # numbers are not reused after the lock is gone

    # save_lock/delete_lock/get_or_create_lock, as Rasa's generic code uses them
    lock = store.get_or_create_lock("d")
    number = lock.issue_ticket(30)
    store.save_lock(lock)
    assert [t.number for t in store.get_lock("d").tickets] == [number]
    assert store.issue_ticket("d") > number
    store.delete_lock("d")
    assert store.get_lock("d") is None

    # the keys of a finished conversation: only the counter is left, and it expires
    store.cleanup("c", second + 1)
    keys = sorted(k.decode() for k in store.red.keys(f"{store.key_prefix}*{{c}}*"))
    assert keys == [f"{store.key_prefix}{{c}}:seq"]
    assert 0 < store.red.pttl(keys[0]) <= store.counter_ttl * 1000


async def test_lock_is_released_when_the_turn_fails_or_is_cancelled(atomic_store_factory):
    store = atomic_store_factory()
    with pytest.raises(RuntimeError):
        async with store.lock("c"):
            raise RuntimeError("turn failed")
    assert store.get_lock("c") is None

    async with store.lock("c"):
        waiter = asyncio.create_task(_enter(store, "c", [], "w"))
        await asyncio.sleep(0.05)
        assert len(store.get_lock("c").tickets) == 2
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert len(store.get_lock("c").tickets) == 1
    assert store.get_lock("c") is None


def test_created_from_endpoints_config_like_rasa_does(redis_url, monkeypatch):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    config = EndpointConfig.from_dict({"type": "bot.lock_store.AtomicRedisLockStore", "url": redis_url,
                                       "key_prefix": prefix, "lifetime": "7"})
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.lifetime == 7 and store.key_prefix == f"{prefix}:lock:"
    assert store.red.ping()

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TICKET_LOCK_LIFETIME", "12")
    monkeypatch.setenv("LOCK_STORE_KEY_PREFIX", prefix)
    from_env = LockStore.create(EndpointConfig.from_dict({"type": "bot.lock_store.AtomicRedisLockStore"}))
    assert from_env.lifetime == 12 and from_env.key_prefix == f"{prefix}:lock:"
    assert from_env.red.connection_pool.connection_kwargs["db"] == store.red.connection_pool.connection_kwargs["db"]

    host_style = AtomicRedisLockStore(EndpointConfig.from_dict(
        {"type": "x", "url": "127.0.0.1", "port": "6379", "db": "3", "password": ""}))
    kwargs = host_style.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6379, 3)


# -- the same adversarial interleaving against both stores ------------------------------------------------------

@pytest.mark.parametrize("kind", [
    "atomic",
    pytest.param("rasa", marks=pytest.mark.xfail(
        strict=True, reason="Rasa 3.6 RedisLockStore: two replicas that read the lock at the same moment both "
                            "draw ticket 0 and both enter (read-then-write is not atomic)")),
])
def test_two_replicas_reading_at_the_same_moment_still_exclude_each_other(kind, redis_url, key_prefix):
    """Both replicas' first Redis read of the lock happens at the same moment (a barrier holds the first one).

    That is an ordinary interleaving for two processes; Rasa's store then issues the same
    ticket twice. The atomic store never reads a lock to write it back, so the barrier
    has nothing to hold and it simply works.
    """
    barrier = threading.Barrier(2, timeout=2)
    stores = [_make_store(kind, redis_url, key_prefix, barrier) for _ in range(2)]
    run = ReplicaLockRun(stores=stores, tasks_per_replica=1, conversations=1, hold=0.2)
    run_replicas(run)
    assert not run.errors
    assert run.max_inside == 1
    assert run.counters == {"conv-0": 2}


def _make_store(kind: str, redis_url: str, key_prefix: str, barrier: threading.Barrier) -> LockStore:
    import redis

    client = _FirstGetMeets(redis.Redis.from_url(redis_url), barrier)
    if kind == "atomic":
        return AtomicRedisLockStore(redis_client=client, key_prefix=key_prefix, lifetime=30)
    store = RedisLockStore(key_prefix=key_prefix)
    store.red = client
    return store


class _FirstGetMeets:
    """A Redis client whose first GET waits until the other replica's first GET (then all calls pass)."""

    def __init__(self, client, barrier: threading.Barrier) -> None:  # noqa: ANN001
        self._client, self._barrier, self._met = client, barrier, False

    def get(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        value = self._client.get(*args, **kwargs)
        if not self._met:
            self._met = True
            try:
                self._barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return value

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._client, name)
