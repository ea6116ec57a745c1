"""The account store: team-scoped reads and writes of account facts.

Usage::

    store = AccountStore(session_factory)
    with store.team("slack:T123", "slack:U42") as scope:
        account, created = scope.get_or_create_account("华东精密")
        scope.upsert_stakeholder(account, "刘建国", title="技术总监", influence=60)

Everything inside one `with` block is one transaction: it commits at the end or
rolls back completely on error, so a failed turn never leaves half a record.
`TeamScope` holds the caller's team and filters every query on it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import (
    Account,
    Interaction,
    Need,
    Opportunity,
    PracticeSession,
    Stakeholder,
    Team,
    User,
)
from bot.store.scope import TeamScope
from bot.store.values import (
    ATTITUDES,
    BUYING_ROLES,
    MAX_NAME,
    NEED_KINDS,
    PATH_ROLES,
    PURCHASE_STAGES,
    RELATIONSHIP_STAGES,
    REPEAT_WINDOW,
    SPIN_TYPES,
    InvalidFact,
    clean_name,
    lookup_key,
    store_key,
)

__all__ = [
    "AccountStore",
    "TeamScope",
    "InvalidFact",
    "clean_name",
    "lookup_key",
    "store_key",
    "Account",
    "Stakeholder",
    "Opportunity",
    "Need",
    "Interaction",
    "PracticeSession",
    "REPEAT_WINDOW",
    "get_store",
    "MAX_NAME",
    "BUYING_ROLES",
    "ATTITUDES",
    "RELATIONSHIP_STAGES",
    "PURCHASE_STAGES",
    "NEED_KINDS",
    "SPIN_TYPES",
    "PATH_ROLES",
]


class AccountStore:
    """Entry point to the account store; pass a session factory (tests use a fresh one)."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory

    @contextmanager
    def team(self, team_key: str, user_key: Optional[str] = None,
             display_name: Optional[str] = None) -> Iterator[TeamScope]:
        """Opens a transaction scoped to one team (created on first use)."""
        session: Session = self._session_factory()
        try:
            team = self._get_or_create(session, Team, {"key": team_key}, {"name": team_key})
            user = None
            if user_key:
                user = self._get_or_create(session, User, {"team_id": team.id, "external_id": user_key},
                                           {"display_name": display_name})
            yield TeamScope(session, team, user)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @staticmethod
    def _get_or_create(session: Session, model: Any, keys: Dict[str, Any], extra: Dict[str, Any]) -> Any:
        stmt = select(model).filter_by(**keys)
        row = session.execute(stmt).scalar_one_or_none()
        if row is not None:
            return row
        try:
            with session.begin_nested():
                row = model(**keys, **extra)
                session.add(row)
        except IntegrityError:  # created concurrently by another worker
            row = session.execute(stmt).scalar_one()
        return row


_default_store: Optional[AccountStore] = None


def get_store() -> AccountStore:
    """The process-wide store on `DATABASE_URL`, built on first use."""
    global _default_store
    if _default_store is None:
        from bot.store.db import default_session_factory

        _default_store = AccountStore(default_session_factory())
    return _default_store
