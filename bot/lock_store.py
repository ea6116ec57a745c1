"""A Rasa lock store that stays correct with several Rasa replicas on one Redis.

Rasa 3.6's `RedisLockStore` keeps a conversation's ticket lock as one JSON value
and changes it by read-modify-write (`GET`, change in Python, `SET`). Two Rasa
processes that do this at the same moment both read the same lock, so both can
draw the same ticket number or overwrite each other's ticket: both then process
the same conversation at once, and `SQLTrackerStore.save` (which appends "the
events after the number already stored") silently drops one side's events.

`AtomicRedisLockStore` keeps each conversation's lock in Redis as

- ``<prefix>:lock:{<conversation>}:seq`` — a counter; a ticket number is one ``INCR``;
- ``<prefix>:lock:{<conversation>}:queue`` — a sorted set of the waiting tickets,
  scored by ticket number (the lowest one is served);
- ``<prefix>:lock:{<conversation>}:lease`` — the same tickets scored by the Redis
  server time (ms) at which they expire,

and every operation — issue a ticket, "is it my turn?", renew, release — is one
Lua script, so it runs atomically on the Redis server whatever the number of
replicas. Expiry uses the Redis clock, not the replicas' clocks.

A ticket is a lease of `lifetime` seconds: a waiting request renews its own ticket
on every poll and the request holding the lock renews it in a heartbeat every
`lifetime / 3` seconds. A replica that crashes stops renewing, so its tickets
expire at most `lifetime` seconds later and the conversation moves on; a live but
slow turn (a long action call) keeps the lock instead of letting the next message
in beside it, which Rasa's fixed 60-second ticket does.

Configured in `endpoints.yml`::

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: ${REDIS_URL}            # redis://[:password@]host:6379/1, rediss://… or a host name
      key_prefix: salescoach       # optional
      lifetime: 60                 # seconds; default TICKET_LOCK_LIFETIME or 60

Without `url`, the store uses the environment variable `REDIS_URL`, then
``redis://localhost:6379/1`` (Rasa's default database 1). Rasa's `host`, `port`,
`db`, `username`, `password`, `use_ssl` and `socket_timeout` parameters work as
for its own Redis lock store.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any, Optional

from rasa.core.constants import DEFAULT_LOCK_LIFETIME
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, LockStore

logger = logging.getLogger(__name__)

DEFAULT_REDIS_URL = "redis://localhost:6379/1"
DEFAULT_SOCKET_TIMEOUT = 10.0
DEFAULT_COUNTER_TTL = 24 * 3600.0  # seconds a conversation's ticket counter outlives its last ticket
DEFAULT_MAX_POLL_INTERVAL = 0.25
NEXT_IN_LINE_POLL_INTERVAL = 0.01

# Shared Lua prelude: Redis server time in ms, and removal of expired tickets.
_PRELUDE = """
local queue, lease = KEYS[2], KEYS[3]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function purge(now)
  local dead = redis.call('ZRANGEBYSCORE', lease, '-inf', '(' .. now)
  for _, n in ipairs(dead) do
    redis.call('ZREM', queue, n)
    redis.call('ZREM', lease, n)
  end
end
local now = now_ms()
purge(now)
"""

# ARGV: lifetime_ms, key_ttl_ms. Returns the new ticket number.
_ISSUE = _PRELUDE + """
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', queue, n, n)
redis.call('ZADD', lease, now + tonumber(ARGV[1]), n)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return n
"""

# ARGV: ticket, lifetime_ms, key_ttl_ms. Renews the ticket's lease. Returns 0 if it is being
# served (the lowest live ticket), the number of live tickets ahead of it, or -1 if it expired.
_TRY = _PRELUDE + """
local ticket = tonumber(ARGV[1])
if not redis.call('ZSCORE', queue, ticket) then return -1 end
redis.call('ZADD', lease, now + tonumber(ARGV[2]), ticket)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return redis.call('ZCOUNT', queue, '-inf', '(' .. ticket)
"""

# ARGV: ticket. Removes it; returns how many live tickets are left (0: the lock is gone,
# Redis deletes empty sorted sets by itself).
_RELEASE = _PRELUDE + """
redis.call('ZREM', queue, ARGV[1])
redis.call('ZREM', lease, ARGV[1])
return redis.call('ZCARD', queue)
"""

# No ARGV. Returns {now_ms, n1, expires1, n2, expires2, ...} in ticket order.
_SNAPSHOT = _PRELUDE + """
local out = {now}
for _, n in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
  table.insert(out, tonumber(n))
  table.insert(out, tonumber(redis.call('ZSCORE', lease, n)))
end
return out
"""

# ARGV: key_ttl_ms, then pairs (ticket, ms to live). Replaces the lock's tickets.
_SAVE = """
local queue, lease = KEYS[2], KEYS[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', queue, lease)
local top = 0
for i = 2, #ARGV, 2 do
  local n, ttl = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if ttl > 0 then
    redis.call('ZADD', queue, n, n)
    redis.call('ZADD', lease, now + ttl, n)
  end
  if n > top then top = n end
end
local seq = tonumber(redis.call('GET', KEYS[1]) or '0')
if top > seq then redis.call('SET', KEYS[1], top) end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return redis.call('ZCARD', queue)
"""


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _setting(explicit: Any, config: dict[str, Any], name: str, default: Any = None) -> Any:
    """An explicit argument, else the endpoints.yml parameter, else `default` (empty strings count as unset)."""
    for value in (explicit, config.get(name)):
        if value is not None and value != "":
            return value
    return default


def _lifetime_from_env() -> float:
    try:
        return float(os.environ.get("TICKET_LOCK_LIFETIME") or 0) or float(DEFAULT_LOCK_LIFETIME)
    except ValueError:
        return float(DEFAULT_LOCK_LIFETIME)


class AtomicRedisLockStore(LockStore):
    """Ticket locks on Redis where every change is one atomic Lua script (safe across replicas)."""

    def __init__(
        self,
        endpoint_config: Any = None,
        *,
        url: Optional[str] = None,
        host: Optional[str] = None,
        port: Optional[int] = None,
        db: Optional[int] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        use_ssl: Optional[bool] = None,
        key_prefix: Optional[str] = None,
        lifetime: Optional[float] = None,
        max_poll_interval: Optional[float] = None,
        counter_ttl: Optional[float] = None,
        socket_timeout: Optional[float] = None,
        redis_client: Any = None,
    ) -> None:
        """Connects to Redis (lazily; the first operation opens the connection).

        Args:
            endpoint_config: the `lock_store` section of endpoints.yml, as Rasa passes it.
            url: a ``redis://``/``rediss://``/``unix://`` URL, or a host name (Rasa's style).
            host: Redis host when `url` is not a URL.
            port: Redis port (6379).
            db: Redis database; Rasa's lock store uses 1.
            username: Redis ACL user.
            password: Redis password.
            use_ssl: TLS to Redis when `url` is a host name.
            key_prefix: prepended to every key (``<prefix>:lock:…``); lets several bots
                or test runs share one Redis.
            lifetime: seconds a ticket lives without renewal (crash recovery time).
            max_poll_interval: longest pause between two "is it my turn?" checks.
            counter_ttl: seconds a conversation's ticket counter is kept after its last
                ticket; numbers are never reused while a stale holder may still exist.
            socket_timeout: Redis socket timeout in seconds.
            redis_client: an existing `redis.Redis` (tests).
        """
        import redis

        config: dict[str, Any] = {}
        if endpoint_config is not None:
            config = dict(getattr(endpoint_config, "kwargs", None) or {})
            if getattr(endpoint_config, "url", None):
                config.setdefault("url", endpoint_config.url)

        self.lifetime = float(_setting(lifetime, config, "lifetime", None) or _lifetime_from_env())
        if self.lifetime <= 0:
            raise ValueError("lock store lifetime must be positive")
        self.max_poll_interval = min(float(_setting(max_poll_interval, config, "max_poll_interval",
                                                    DEFAULT_MAX_POLL_INTERVAL)), self.lifetime / 4)
        self.counter_ttl = max(float(_setting(counter_ttl, config, "counter_ttl", DEFAULT_COUNTER_TTL)),
                               4 * self.lifetime)
        prefix = str(_setting(key_prefix, config, "key_prefix", os.environ.get("LOCK_STORE_KEY_PREFIX") or ""))
        self.key_prefix = f"{prefix}:lock:" if prefix else "lock:"

        if redis_client is not None:
            self.red = redis_client
        else:
            timeout = float(_setting(socket_timeout, config, "socket_timeout", DEFAULT_SOCKET_TIMEOUT))
            target = str(_setting(url, config, "url", None) or _setting(host, config, "host", None)
                         or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
            auth = {"username": _setting(username, config, "username"),
                    "password": _setting(password, config, "password")}
            auth = {k: v for k, v in auth.items() if v is not None}
            if "://" in target:
                extra: dict[str, Any] = dict(auth)
                db_setting = _setting(db, config, "db")
                if db_setting is not None:
                    extra["db"] = int(db_setting)
                self.red = redis.Redis.from_url(target, socket_timeout=timeout, **extra)
            else:
                self.red = redis.Redis(host=target, port=int(_setting(port, config, "port", 6379)),
                                       db=int(_setting(db, config, "db", 1)),
                                       ssl=_as_bool(_setting(use_ssl, config, "use_ssl", False)),
                                       socket_timeout=timeout, **auth)
        self._issue = self.red.register_script(_ISSUE)
        self._try = self.red.register_script(_TRY)
        self._release = self.red.register_script(_RELEASE)
        self._snapshot = self.red.register_script(_SNAPSHOT)
        self._save = self.red.register_script(_SAVE)
        super().__init__()
        logger.debug("AtomicRedisLockStore: key prefix '%s', ticket lifetime %.1fs", self.key_prefix, self.lifetime)

    # -- keys -------------------------------------------------------------------------------------------------

    def _keys(self, conversation_id: str) -> list[str]:
        # The {…} hash tag keeps a conversation's three keys in one Redis Cluster slot.
        base = f"{self.key_prefix}{{{conversation_id}}}"
        return [f"{base}:seq", f"{base}:queue", f"{base}:lease"]

    def _ms(self, seconds: Optional[float]) -> int:
        return max(1, int(round(1000 * (self.lifetime if seconds is None else float(seconds)))))

    # -- atomic primitives ------------------------------------------------------------------------------------

    def issue_ticket(self, conversation_id: str, lock_lifetime: Optional[float] = None) -> int:
        """Draws the next ticket for `conversation_id` (one atomic INCR + enqueue)."""
        try:
            return int(self._issue(keys=self._keys(conversation_id),
                                   args=[self._ms(lock_lifetime), self._ms(self.counter_ttl)]))
        except Exception as e:  # noqa: BLE001 - Rasa's contract: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def try_acquire(self, conversation_id: str, ticket: int, lock_lifetime: Optional[float] = None) -> int:
        """Renews `ticket`'s lease and tells whether it is served.

        Returns:
            0 if `ticket` is the lowest live ticket (the caller holds the lock), the
            number of live tickets ahead of it otherwise, -1 if it has expired.
        """
        return int(self._try(keys=self._keys(conversation_id),
                             args=[ticket, self._ms(lock_lifetime), self._ms(self.counter_ttl)]))

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket (one atomic operation)."""
        self._release(keys=self._keys(conversation_id), args=[ticket_number])

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket; the lock disappears with its last ticket (Redis drops empty sets)."""
        left = int(self._release(keys=self._keys(conversation_id), args=[ticket_number]))
        if not left:
            self._log_deletion(conversation_id, True)

    def is_someone_waiting(self, conversation_id: str) -> bool:
        """Whether any live ticket exists for `conversation_id`."""
        return len(self._snapshot(keys=self._keys(conversation_id))) > 1

    def update_lock(self, conversation_id: str) -> None:
        """Removes expired tickets (every script does this anyway)."""
        self._snapshot(keys=self._keys(conversation_id))

    # -- Rasa's LockStore storage API (whole-lock reads and writes) -------------------------------------------

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """A consistent snapshot of the live tickets, expiry in this machine's clock."""
        raw = [int(x) for x in self._snapshot(keys=self._keys(conversation_id))]
        if len(raw) < 3:
            return None
        server_now, local_now = raw[0], time.time()
        tickets = deque(Ticket(raw[i], local_now + (raw[i + 1] - server_now) / 1000.0)
                        for i in range(1, len(raw), 2))
        return TicketLock(conversation_id, tickets)

    def save_lock(self, lock: TicketLock) -> None:
        """Replaces the conversation's tickets with `lock`'s (atomic, but last writer wins).

        Only for callers of Rasa's generic API; this store's own operations never read a
        lock, change it in Python and write it back.
        """
        now = time.time()
        args: list[Any] = [self._ms(self.counter_ttl)]
        for ticket in lock.tickets:
            args += [ticket.number, int(1000 * (ticket.expires - now))]
        self._save(keys=self._keys(lock.conversation_id), args=args)

    def delete_lock(self, conversation_id: str) -> None:
        """Deletes all tickets (keeps the counter, so numbers are not reused)."""
        keys = self._keys(conversation_id)
        self._log_deletion(conversation_id, bool(self.red.delete(keys[1], keys[2])))

    # -- the lock ---------------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: Optional[float] = None,
        wait_time_in_seconds: Optional[float] = None,
    ) -> AsyncGenerator[TicketLock, None]:
        """Holds the conversation's lock: draws a ticket, waits for its turn, releases it on exit.

        Args:
            conversation_id: the conversation.
            lock_lifetime: lease length in seconds (default: the store's `lifetime`).
            wait_time_in_seconds: longest pause between two checks (default:
                `max_poll_interval`). The next ticket in line checks every 10 ms,
                the ones behind it less often, in proportion to the queue ahead.

        Raises:
            LockError: if Redis fails, or the ticket expired while waiting.
        """
        lifetime = self.lifetime if lock_lifetime is None else float(lock_lifetime)
        max_wait = self.max_poll_interval if wait_time_in_seconds is None else float(wait_time_in_seconds)
        max_wait = max(NEXT_IN_LINE_POLL_INTERVAL, min(max_wait, lifetime / 4))
        ticket = self.issue_ticket(conversation_id, lifetime)
        heartbeat: Optional[asyncio.Task] = None
        try:
            await self._wait_for_turn(conversation_id, ticket, lifetime, max_wait)
            heartbeat = asyncio.create_task(self._renew_while_held(conversation_id, ticket, lifetime))
            yield TicketLock(conversation_id, deque([Ticket(ticket, time.time() + lifetime)]))
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await heartbeat
            try:
                self.cleanup(conversation_id, ticket)
            except Exception as e:  # noqa: BLE001 - the ticket expires by itself
                logger.warning("Could not release ticket %s of conversation '%s': %s", ticket, conversation_id, e)

    async def _wait_for_turn(self, conversation_id: str, ticket: int, lifetime: float, max_wait: float) -> None:
        while True:
            try:
                ahead = self.try_acquire(conversation_id, ticket, lifetime)
            except Exception as e:  # noqa: BLE001
                raise LockError(f"Error while acquiring lock for conversation '{conversation_id}': {e}") from e
            if ahead == 0:
                logger.debug("Acquired lock for conversation '%s' (ticket %s).", conversation_id, ticket)
                return
            if ahead < 0:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}' "
                                f"(ticket {ticket} expired while waiting).")
            logger.debug("Conversation '%s': ticket %s waits for %s other ticket(s).", conversation_id, ticket, ahead)
            # next in line: look again soon; further back: in proportion to the queue ahead
            await asyncio.sleep(min(max_wait, NEXT_IN_LINE_POLL_INTERVAL * (1 if ahead == 1 else 2 * ahead)))

    async def _renew_while_held(self, conversation_id: str, ticket: int, lifetime: float) -> None:
        while True:
            await asyncio.sleep(lifetime / 3)
            try:
                if self.try_acquire(conversation_id, ticket, lifetime) != 0:
                    logger.error("Lost the lock of conversation '%s' (ticket %s expired while held); another "
                                 "replica may now process it concurrently.", conversation_id, ticket)
                    return
            except Exception as e:  # noqa: BLE001 - keep trying until the lease runs out
                logger.warning("Could not renew ticket %s of conversation '%s': %s", ticket, conversation_id, e)
