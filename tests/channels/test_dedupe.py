"""Replay protection shared by Slack and WeCom: memory, the database (survives restarts), Redis."""
from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from bot.channels.dedupe import MemoryDedupe, RedisDedupe, SqlDedupe, dedupe_from_env
from bot.store.db import make_session_factory

REDIS_URL = "redis://127.0.0.1:6379/0"


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_memory_dedupe_expires_after_its_ttl():
    store = MemoryDedupe()
    assert await store.first_seen("a", 1) and not await store.first_seen("a", 1)
    assert await store.first_seen("b", 1)
    await asyncio.sleep(1.1)
    assert await store.first_seen("a", 1)


async def test_a_key_seen_before_a_restart_is_still_seen_after_it(sqlite_url):
    """Without Redis the keys live in the database: a new process (a restart) still refuses a replay."""
    before = SqlDedupe(make_session_factory(sqlite_url), prefix="slack:")
    assert await before.first_seen("event:Ev1", 3600)
    assert not await before.first_seen("event:Ev1", 3600)
    after_restart = SqlDedupe(make_session_factory(sqlite_url), prefix="slack:")
    assert not await after_restart.first_seen("event:Ev1", 3600)
    assert await after_restart.first_seen("event:Ev2", 3600)
    wecom = SqlDedupe(make_session_factory(sqlite_url), prefix="wecom:")
    assert await wecom.first_seen("event:Ev1", 3600)  # channels have namespaces of their own


async def test_database_keys_expire_and_over_long_keys_fit(sqlite_url):
    store = SqlDedupe(make_session_factory(sqlite_url))
    assert await store.first_seen("short-lived", 1)
    await asyncio.sleep(1.2)
    assert await store.first_seen("short-lived", 1)
    long_key = "k" * 500
    assert await store.first_seen(long_key, 60) and not await store.first_seen(long_key, 60)
    assert await store.first_seen(long_key + "x", 60)


@pytest.mark.postgres
async def test_database_dedupe_on_postgresql(postgres_url):
    from bot.store.migrate import upgrade

    upgrade(postgres_url)
    one, two = (SqlDedupe(make_session_factory(postgres_url)) for _ in range(2))
    results = await asyncio.gather(*(store.first_seen("event:race", 60) for store in (one, two, one, two)))
    assert sorted(results) == [False, False, False, True]


async def test_redis_dedupe_is_shared_between_processes_with_a_ttl():
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    one, two = RedisDedupe(REDIS_URL, prefix), RedisDedupe(REDIS_URL, prefix)
    try:
        try:
            await one._redis().ping()
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"Redis is required for this test and is not reachable at {REDIS_URL}: {exc}")
        assert await one.first_seen("event:Ev1", 60)
        assert not await two.first_seen("event:Ev1", 60)   # another Rasa process sees it too
        assert await two.first_seen("event:Ev2", 60)
        assert 0 < await one._redis().ttl(one.prefix + "event:Ev1") <= 60
    finally:
        keys = await one._redis().keys(one.prefix + "*")
        if keys:
            await one._redis().delete(*keys)
        await one.close()
        await two.close()


async def test_a_redis_outage_falls_back_to_the_database(sqlite_url):
    database = SqlDedupe(make_session_factory(sqlite_url))
    store = RedisDedupe(f"redis://127.0.0.1:{_dead_port()}/0", "slack:", fallback=database)
    assert await store.first_seen("event:Ev1", 60)
    assert not await store.first_seen("event:Ev1", 60)
    assert not await SqlDedupe(make_session_factory(sqlite_url)).first_seen("event:Ev1", 60)
    await store.close()


async def test_a_database_outage_falls_back_to_memory(tmp_path):
    store = SqlDedupe(make_session_factory(f"sqlite:///{tmp_path}/missing-dir/none.db"))
    assert await store.first_seen("m1", 60)
    assert not await store.first_seen("m1", 60)


def test_the_environment_picks_redis_with_the_database_behind_it(monkeypatch):
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    chosen = dedupe_from_env("wecom:")
    assert isinstance(chosen, RedisDedupe) and isinstance(chosen.fallback, SqlDedupe)
    monkeypatch.delenv("REDIS_URL")
    assert isinstance(dedupe_from_env("wecom:"), SqlDedupe)


async def test_a_key_seen_while_the_database_was_locked_is_still_refused_once_it_is_free(sqlite_url, tmp_path):
    """Attacker's pass: a replay sent after a short lock was accepted a second time.

    Only the database was asked once it was back. This process's memory is asked first now.
    """
    import sqlite3

    from bot.store.migrate import upgrade

    upgrade(sqlite_url)
    store = SqlDedupe(make_session_factory(sqlite_url), prefix="slack:")
    store.WAIT_SECONDS = 0.3
    locker = sqlite3.connect(sqlite_url.split("///", 1)[1], timeout=0)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        assert await store.first_seen("event:EvLock", 300)        # handled: a lost message is worse
        assert not await store.first_seen("event:EvLock", 300)    # a replay during the lock: dropped
    finally:
        locker.rollback()
        locker.close()
    await asyncio.sleep(0.2)
    assert not await store.first_seen("event:EvLock", 300)        # ...and after it
    assert await store.first_seen("event:EvOther", 300)
