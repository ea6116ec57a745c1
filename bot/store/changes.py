"""What each message saved, and "undo": the store's change log.

Every write through a `TeamScope` is logged as one batch (one message, one transaction):
rows created, and each field's value before and after. "undo" / "撤销" / "復原" reverts the
rep's latest batch that is not undone yet and says what it reverted; saying it again goes
one batch further back. A field is put back only if nobody changed it since; a row the batch
created is removed only if nothing saved later hangs on it (an account that has since got
other people, needs or meetings stays). Deletions the rep confirmed are not in the log: they
cannot be undone.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, List, Optional

from sqlalchemy import select

from bot.store.models import Account, Change, Interaction, Need, Opportunity, Stakeholder, utcnow

CREATED = "*created*"
TARGETS = {"account": Account, "person": Stakeholder, "deal": Opportunity, "need": Need, "meeting": Interaction}


def new_batch() -> str:
    return uuid.uuid4().hex


@dataclass
class Reverted:
    """One thing "undo" put back: a field of a row (`field`, `old`, `new`), or a row it removed."""

    target: str
    name: str
    field: str
    old: Any = None
    new: Any = None


def target_of(row: Any) -> str:
    return next(kind for kind, model in TARGETS.items() if isinstance(row, model))


def describe(row: Any) -> str:
    """A short name for a logged row: the account's or person's name, a need's text."""
    if isinstance(row, Account | Stakeholder):
        return row.name
    if isinstance(row, Opportunity):
        return row.account.name if row.account else ""
    if isinstance(row, Need):
        return row.description
    if isinstance(row, Interaction):
        return row.summary[:60]
    return ""


def _touched_since(session: Any, target: str, target_id: int, batch: str) -> bool:
    """Whether a batch other than `batch` (and not undone) changed this row."""
    return session.scalar(select(Change.id).where(
        Change.target == target, Change.target_id == target_id, Change.batch != batch,
        Change.undone_at.is_(None)).limit(1)) is not None


def _hangs_on(session: Any, row: Any, batch: str) -> bool:
    """Whether a row the batch created has been changed since, or holds rows it did not create (then it stays)."""
    if _touched_since(session, target_of(row), row.id, batch):
        return True
    if isinstance(row, Account):
        created = {(c.target, c.target_id) for c in session.scalars(
            select(Change).where(Change.batch == batch, Change.field == CREATED))}
        children = (list(row.stakeholders) + list(row.needs) + list(row.interactions) + list(row.opportunities))
        return any((target_of(o), o.id) not in created or _touched_since(session, target_of(o), o.id, batch)
                   for o in children)
    return False


def close_history(scope: Any) -> None:
    """Closes the caller's undo history: after a deletion nothing earlier can be undone.

    "Undo" right after deleting an account must not quietly revert what the rep saved at another
    account several messages before.
    """
    from sqlalchemy import update

    query = update(Change).where(Change.team_id == scope.team.id, Change.undone_at.is_(None))
    if scope.user is not None:
        query = query.where(Change.user_id == scope.user.id)
    scope.session.execute(query.values(undone_at=utcnow()))


def undo_latest(scope: Any) -> Optional[List[Reverted]]:
    """Reverts the caller's latest batch that is not undone yet; None when there is nothing to undo."""
    session = scope.session
    query = (select(Change.batch).where(Change.team_id == scope.team.id, Change.undone_at.is_(None))
             .order_by(Change.id.desc()).limit(1))
    if scope.user is not None:
        query = query.where(Change.user_id == scope.user.id)
    batch = session.scalar(query)
    if batch is None:
        return None
    changes = list(session.scalars(select(Change).where(Change.batch == batch).order_by(Change.id.desc())))
    reverted: List[Reverted] = []
    removals = []
    for change in changes:
        row = session.get(TARGETS[change.target], change.target_id)
        change.undone_at = utcnow()
        if row is None or row.team_id != scope.team.id:
            continue
        if change.field == CREATED:
            removals.append((change, row))
            continue
        if getattr(row, change.field) != change.new:
            continue  # changed again since: leave it
        setattr(row, change.field, change.old)
        reverted.append(Reverted(change.target, describe(row), change.field, change.old, change.new))
    kept = [row for _, row in removals if _hangs_on(session, row, batch)]
    for change, row in removals:  # children before their account (they were created after it)
        if row in kept or (isinstance(row, Account) and any(getattr(k, "account_id", None) == row.id for k in kept)):
            continue
        reverted.append(Reverted(change.target, describe(row), CREATED))
        session.delete(row)
        session.flush()
        session.expire_all()  # the parent's collections must not still hold the deleted child
    session.flush()
    return reverted
