"""Engine and session factory from `DATABASE_URL` (SQLite file by default)."""
from __future__ import annotations

import os
from functools import lru_cache

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot import REPO_DIR

DEFAULT_DB_PATH = REPO_DIR / "var" / "sales_coach.db"


def database_url() -> str:
    """The account store URL: `DATABASE_URL` or the embedded SQLite file."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    DEFAULT_DB_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DB_PATH}"


#: seconds a statement waits for a lock held by another writer before it fails (the action then
#: says "nothing was saved"); below the 8 s an action may take (ACTION_TIMEOUT_SECONDS)
DEFAULT_LOCK_TIMEOUT = 5.0


def lock_timeout() -> float:
    """`DB_LOCK_TIMEOUT_SECONDS` (default 5): how long a write waits for another writer's lock."""
    try:
        value = float(os.environ.get("DB_LOCK_TIMEOUT_SECONDS", "") or DEFAULT_LOCK_TIMEOUT)
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT
    return value if value > 0 else DEFAULT_LOCK_TIMEOUT


def _private_file(url: str) -> None:
    """The SQLite file (and its WAL) readable and writable by this user only.

    Accounts are confidential, and another local user holding a read lock could stall every write.
    """
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path.startswith(":memory:") or path.startswith("file:"):
        return
    path = path.split("?", 1)[0]
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        for name in (path, path + "-wal", path + "-shm", path + "-journal"):
            if os.path.exists(name):
                os.chmod(name, 0o600)
    except OSError:  # a directory that does not exist yet, or not ours: SQLite reports it
        pass


def make_engine(url: str) -> Engine:
    """Creates an engine; SQLite gets foreign keys and WAL; every database a lock timeout (`lock_timeout`)."""
    wait = lock_timeout()
    if url.startswith("sqlite"):
        _private_file(url)
        engine = create_engine(url, connect_args={"timeout": wait, "check_same_thread": False}, future=True,
                               hide_parameters=True)  # no account data in logged errors

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, future=True,
                           hide_parameters=True)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _postgres_lock_timeout(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET lock_timeout = {int(wait * 1000)}")
            cursor.close()
            dbapi_connection.commit()

    return engine


def make_session_factory(url: str) -> sessionmaker:
    return sessionmaker(bind=make_engine(url), expire_on_commit=False, future=True)


@lru_cache(maxsize=1)
def default_session_factory() -> sessionmaker:
    return make_session_factory(database_url())
