"""Schema migrations (Alembic), runnable as `python -m bot.store.migrate`."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    """Brings the database at `url` (default: DATABASE_URL / SQLite file) to `revision`."""
    from bot.store.db import database_url

    command.upgrade(alembic_config(url or database_url()), revision)


if __name__ == "__main__":
    upgrade(sys.argv[1] if len(sys.argv) > 1 else None)
    print("account store schema is up to date")
