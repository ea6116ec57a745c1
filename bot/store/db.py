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


def make_engine(url: str) -> Engine:
    """Creates an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, future=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, future=True)


def make_session_factory(url: str) -> sessionmaker:
    return sessionmaker(bind=make_engine(url), expire_on_commit=False, future=True)


@lru_cache(maxsize=1)
def default_session_factory() -> sessionmaker:
    return make_session_factory(database_url())
