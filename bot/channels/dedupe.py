"""Replay protection for the webhooks: each Slack event or WeCom message is handled once.

Slack retries an event it thinks was not received, sends ``message`` and ``app_mention`` for
one mention, and a signed request can be replayed inside its 5-minute window; WeCom retries a
callback three times. A channel offers each key (an event id, a message id) to `first_seen`,
which answers True exactly once per key within its lifetime, across every process that shares
the store and across restarts:

* `RedisDedupe` — ``SET key 1 NX EX ttl`` when ``REDIS_URL`` is set (several replicas);
* `SqlDedupe` — a row in the account store's ``seen_keys`` table otherwise (SQLite by default),
  so a restart does not forget what was handled;
* `MemoryDedupe` — one process only; what the others fall back to when their store is
  unreachable (a duplicate reply is better than a lost message), and what unit tests use.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Protocol

logger = logging.getLogger(__name__)

MAX_KEY_CHARS = 200


class Dedupe(Protocol):
    """Remembers keys for a while; `first_seen` is atomic per key."""

    async def first_seen(self, key: str, ttl: int) -> bool:
        """True the first time `key` is offered within `ttl` seconds, False afterwards."""

    async def close(self) -> None:
        """Releases connections."""


def _fit(key: str) -> str:
    if len(key) <= MAX_KEY_CHARS:
        return key
    return key[:MAX_KEY_CHARS - 65] + "#" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class MemoryDedupe:
    """A TTL set in this process."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max_keys = max_keys

    async def first_seen(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        while self._seen:
            oldest, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self._max_keys:
                break
            self._seen.pop(oldest)
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        self._seen[key] = now + ttl
        self._seen.move_to_end(key)
        return True

    async def close(self) -> None:
        self._seen.clear()


class SqlDedupe:
    """Keys as rows of ``seen_keys`` in the account store (`bot.store.db`), purged when expired."""

    WAIT_SECONDS = 1.0

    def __init__(self, session_factory: Any = None, prefix: str = "") -> None:
        self._factory = session_factory
        self.prefix = prefix
        self.fallback = MemoryDedupe()

    def _sessions(self) -> Any:
        if self._factory is None:
            from bot.store.db import default_session_factory

            self._factory = default_session_factory()
        return self._factory

    def _first_seen(self, key: str, ttl: int) -> bool:
        from sqlalchemy import delete, select
        from sqlalchemy.exc import IntegrityError

        from bot.store.models import SeenKey

        now = datetime.now(timezone.utc)
        with self._sessions()() as session, session.begin():
            session.execute(delete(SeenKey).where(SeenKey.expires_at < now))
            if session.execute(select(SeenKey.key).where(SeenKey.key == key)).first() is not None:
                return False
            try:
                with session.begin_nested():
                    session.add(SeenKey(key=key, expires_at=now + timedelta(seconds=max(1, int(ttl)))))
            except IntegrityError:  # another process took it first
                return False
        return True

    async def first_seen(self, key: str, ttl: int) -> bool:
        """This process's memory first, then the database.

        Memory also holds what was seen while the database was locked; the database is waited on for
        at most `WAIT_SECONDS` so a webhook still answers inside Slack's 3 s.
        """
        key = _fit(self.prefix + key)
        if not await self.fallback.first_seen(key, ttl):
            return False
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._first_seen, key, ttl), self.WAIT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - database down or locked: degrade, don't lose the message
            logger.warning("replay protection: the database is unavailable (%s); using this process's memory",
                           type(exc).__name__ or "timeout")
            return True

    async def close(self) -> None:
        await self.fallback.close()


class RedisDedupe:
    """``SET key 1 NX EX ttl`` in Redis; `fallback` (the database) when Redis cannot be reached."""

    def __init__(self, url: str, prefix: str = "", fallback: Optional[Dedupe] = None) -> None:
        self.url = url
        self.prefix = "sales-coach:seen:" + prefix
        self.fallback: Dedupe = fallback or MemoryDedupe()
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            import redis.asyncio as redis_asyncio

            self._client = redis_asyncio.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        return self._client

    async def first_seen(self, key: str, ttl: int) -> bool:
        try:
            return bool(await self._redis().set(_fit(self.prefix + key), b"1", nx=True, ex=max(1, int(ttl))))
        except Exception as exc:  # noqa: BLE001 - any Redis/network failure
            logger.warning("replay protection: Redis unavailable (%s); using the fallback", type(exc).__name__)
            return await self.fallback.first_seen(key, ttl)

    async def close(self) -> None:
        if self._client is not None:
            try:
                await self._client.close()
            except Exception:  # noqa: BLE001
                pass
            self._client = None
        await self.fallback.close()


def dedupe_from_env(prefix: str, redis_url: Optional[str] = None) -> Dedupe:
    """Redis when ``REDIS_URL`` (or `redis_url`) is set, with the database behind it; else the database."""
    url = (redis_url if redis_url is not None else os.environ.get("REDIS_URL", "")).strip()
    database = SqlDedupe(prefix=prefix)
    return RedisDedupe(url, prefix, fallback=database) if url else database
