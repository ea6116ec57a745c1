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

import hashlib
import math
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, Iterator, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.language import name_key, without_nul
from bot.resilience import LATE_RESULT_RETENTION
from bot.store.models import (
    Account,
    Chart,
    Conversation,
    Interaction,
    Need,
    Opportunity,
    PracticeSession,
    Stakeholder,
    Team,
    User,
    utcnow,
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
]

MAX_NAME = 200

BUYING_ROLES = ("economic_buyer", "user", "financial", "technical", "coach")
ATTITUDES = ("supporter", "neutral", "opponent")
RELATIONSHIP_STAGES = ("acquainted", "engaged", "trusted", "ally")
PURCHASE_STAGES = ("need_emerges", "project_set_up", "info_gathering", "technical_screening",
                   "evaluation", "decision", "implementation")
NEED_KINDS = ("explicit", "implicit", "strategic")
SPIN_TYPES = ("problem", "implication", "need_payoff")
PATH_ROLES = ("acceptor", "dissatisfied", "power")


class InvalidFact(ValueError):
    """A fact that cannot be stored (empty or too long name, value out of range)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


#: quotes and end punctuation trimmed from both ends of a name
NAME_PUNCT = "，,。.：:;；!！?？\"'“”"
#: bidi embeddings, overrides and isolates: removed anywhere in a name (they reorder what follows)
_BIDI_CONTROLS = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
#: zero-width characters trimmed from the ends of a name (inside one they may join emoji or scripts)
_ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
#: categories of characters that show nothing on their own
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def _trimmed(name: Optional[str]) -> str:
    """A name without control characters and bidi controls, trimmed of spaces, quotes and end punctuation.

    Control characters other than whitespace (NUL, ESC, DEL, …) and the bidi controls
    U+202A–202E and U+2066–2069 are removed wherever they are; then spaces, quotes, end
    punctuation and zero-width characters are trimmed from both ends until none is left
    there (“ Acme ” → Acme).
    """
    text = "".join(c for c in (name or "") if c not in _BIDI_CONTROLS
                   and (c.isspace() or unicodedata.category(c) != "Cc"))
    while True:
        trimmed = text.strip().strip(NAME_PUNCT).strip(_ZERO_WIDTH)
        if trimmed == text:
            return text
        text = trimmed


def clean_name(name: Optional[str]) -> str:
    """The name as the store saves it (see `_trimmed`), or `InvalidFact`.

    Refused as ``empty_name``: nothing left, no visible character (only format, space or
    combining characters), or nothing left of its lookup key ("--", "()", "·"), which could
    never be found again. Refused as ``name_too_long``: more than `MAX_NAME` characters.
    """
    text = _trimmed(name)
    if not text or all(unicodedata.category(c) in _INVISIBLE for c in text) or not name_key(text):
        raise InvalidFact("empty_name")
    if len(text) > MAX_NAME:
        raise InvalidFact("name_too_long", limit=MAX_NAME)
    return text


def store_key(name: str) -> str:
    """The stored lookup key of a (clean) name: `name_key`, at most `MAX_NAME` characters.

    NFKC can make a key much longer than its name (U+FDFA is 18 characters); a key over
    the column's length keeps its beginning and ends in a hash of the whole key, so it
    still fits, stays unique and is found again by the same name.
    """
    key = name_key(name)
    if len(key) <= MAX_NAME:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"{key[:MAX_NAME - len(digest) - 1]}#{digest}"


def lookup_key(name: Optional[str]) -> str:
    """The key a name is looked up with: the stored key of the name as `clean_name` trims it."""
    return store_key(_trimmed(name))


def _text(value: Any) -> Any:
    """A free text as stored: NUL characters (PostgreSQL cannot store them) and bidi controls removed.

    A right-to-left override (U+202E) in a need or a note would make it read differently from
    what is stored, in every reply and chart that shows it.
    """
    if not isinstance(value, str):
        return value
    return "".join(c for c in without_nul(value) if c not in _BIDI_CONTROLS)


def _short_text(value: Any, limit: int = MAX_NAME) -> Optional[str]:
    """A short free text (title, industry): NUL removed, at most `limit` characters, or `InvalidFact`."""
    if value is None:
        return None
    value = _text(str(value)).strip()
    if len(value) > limit:
        raise InvalidFact("name_too_long", limit=limit)
    return value or None


#: A write repeated within this window is the same write: a rep re-sending a message after a
#: "that took too long" reply, possibly to another replica while the first attempt finished late
#: (bot/resilience.py reuses late results only within one process, for the same time).
REPEAT_WINDOW = timedelta(seconds=LATE_RESULT_RETENTION)


def _recent(created_at: Optional[datetime]) -> bool:
    if created_at is None:
        return False
    if created_at.tzinfo is None:  # SQLite gives naive UTC datetimes back
        created_at = created_at.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - created_at <= REPEAT_WINDOW


def _check(value: Optional[str], allowed: Tuple[str, ...], field: str) -> Optional[str]:
    if value is None:
        return None
    if value not in allowed:
        raise InvalidFact("bad_value", field=field, value=value)
    return value


@dataclass
class TeamScope:
    """All reads and writes of one team, inside one transaction."""

    session: Session
    team: Team
    user: Optional[User]
    #: charts unpublished by `delete_stakeholder` in this transaction (files to remove after it commits)
    deleted_chart_files: List[str] = dataclass_field(default_factory=list)

    # accounts -------------------------------------------------------------
    def list_accounts(self) -> List[Account]:
        """The team's accounts, most recently updated first."""
        stmt = select(Account).where(Account.team_id == self.team.id).order_by(Account.updated_at.desc(),
                                                                                Account.id.desc())
        return list(self.session.execute(stmt).scalars())

    def match_accounts(self, name: str) -> List[Account]:
        """Accounts whose name matches exactly, else those whose name contains `name` ("华东" → 华东精密).

        A longer name is never matched to a shorter existing one ("Acme Logistics" is not "Acme"),
        so a new account is not silently merged into an old one.
        """
        key = lookup_key(name)
        if not key:
            return []
        accounts = self.list_accounts()
        exact = [a for a in accounts if a.name_key == key]
        if exact:
            return exact
        if len(key) < 2:
            return []
        return [a for a in accounts if key in a.name_key]

    def find_account(self, name: Optional[str]) -> Optional[Account]:
        """The one account matching `name`, or None if none or several match."""
        if not name:
            return None
        matches = self.match_accounts(name)
        return matches[0] if len(matches) == 1 else None

    def account_by_id(self, account_id: Optional[int]) -> Optional[Account]:
        if account_id is None:
            return None
        account = self.session.get(Account, account_id)
        if account is None or account.team_id != self.team.id:
            return None
        return account

    def get_or_create_account(self, name: str, **facts: Any) -> Tuple[Account, bool]:
        """Finds the account by name or creates it; returns (account, created)."""
        name = clean_name(name)
        key = store_key(name)
        values = {field: _short_text(facts.get(field), limit) for field, limit in
                  (("industry", MAX_NAME), ("tier", 40), ("account_level", 40))}
        values["notes"] = _text(facts.get("notes"))
        stmt = select(Account).where(Account.team_id == self.team.id, Account.name_key == key)
        account = self.session.execute(stmt).scalar_one_or_none()
        created = account is None
        if created:
            account = Account(team_id=self.team.id, name=name, name_key=key,
                              created_by=self.user.id if self.user else None)
            self.session.add(account)
        for field, value in values.items():
            if value:
                setattr(account, field, value)
        self.session.flush()
        return account, created

    def delete_account(self, account: Account) -> None:
        """Deletes an account and everything recorded about it.

        Its charts are unpublished: their file names are left in `deleted_chart_files` for
        `bot.media.remove` once the transaction has committed.
        """
        self._own(account)
        self.deleted_chart_files += self.take_charts(account)
        for person in account.stakeholders:
            self._redact_practices(person)
        self.session.delete(account)
        self.session.flush()

    # stakeholders -----------------------------------------------------------
    def find_stakeholders(self, name: str, account: Optional[Account] = None) -> List[Stakeholder]:
        """People whose name matches, in one account or across the team."""
        key = lookup_key(name)
        if not key:
            return []
        stmt = select(Stakeholder).where(Stakeholder.team_id == self.team.id)
        if account is not None:
            stmt = stmt.where(Stakeholder.account_id == account.id)
        people = list(self.session.execute(stmt).scalars())
        exact = [p for p in people if p.name_key == key]
        if exact:
            return exact
        if len(key) < 2:
            return []
        return [p for p in people if p.name_key.startswith(key)]

    def stakeholder_by_id(self, stakeholder_id: Optional[int]) -> Optional[Stakeholder]:
        if stakeholder_id is None:
            return None
        person = self.session.get(Stakeholder, stakeholder_id)
        if person is None or person.team_id != self.team.id:
            return None
        return person

    def upsert_stakeholder(self, account: Account, name: str, **facts: Any) -> Tuple[Stakeholder, bool, Dict[str, Any]]:
        """Adds a person to an account or updates them.

        Args:
            account: the person's account (must belong to this team).
            name: the person's name.
            **facts: any of title, department, buying_roles (list, merged with the
                existing roles), attitude, influence (0–100), relationship_stage,
                path_role, personal_notes (appended).

        Returns:
            (stakeholder, created, changed facts).
        """
        self._own(account)
        name = clean_name(name)
        key = store_key(name)
        stmt = select(Stakeholder).where(Stakeholder.account_id == account.id, Stakeholder.name_key == key)
        person = self.session.execute(stmt).scalar_one_or_none()
        created = person is None
        if created:
            person = Stakeholder(team_id=self.team.id, account_id=account.id, name=name, name_key=key)
            self.session.add(person)
        changes: Dict[str, Any] = {}
        for field in ("title", "department"):
            value = _short_text(facts.get(field))
            if value and value != getattr(person, field):
                setattr(person, field, value)
                changes[field] = value
        roles = [_check(r, BUYING_ROLES, "buying_role") for r in facts.get("buying_roles") or []]
        if roles:
            merged = person.roles + [r for r in roles if r not in person.roles]
            if merged != person.roles:
                person.buying_roles = ",".join(merged)
                changes["buying_roles"] = roles
        for field, allowed in (("attitude", ATTITUDES), ("relationship_stage", RELATIONSHIP_STAGES),
                               ("path_role", PATH_ROLES)):
            value = _check(facts.get(field), allowed, field)
            if value and value != getattr(person, field):
                setattr(person, field, value)
                changes[field] = value
        influence = facts.get("influence")
        if influence is not None:
            try:
                number = float(influence)
            except (TypeError, ValueError):
                raise InvalidFact("bad_influence", value=influence) from None
            if not math.isfinite(number) or not 0 <= round(number) <= 100:
                raise InvalidFact("bad_influence", value=influence)
            influence = int(round(number))
            if influence != person.influence:
                person.influence = influence
                changes["influence"] = influence
        note = _text(facts.get("personal_notes"))
        if note:
            person.personal_notes = f"{person.personal_notes}\n{note}" if person.personal_notes else note
            changes["personal_notes"] = note
        self._touch(account)
        self.session.flush()
        return person, created, changes

    def clear_personal_notes(self, person: Stakeholder) -> None:
        """Removes the personal notes kept about a person."""
        self._own(person)
        person.personal_notes = None
        self.session.flush()

    def delete_stakeholder(self, person: Stakeholder, redact: bool = False) -> int:
        """Deletes a person; needs and interactions lose the link to them.

        With `redact`, the person's name is also removed from the text of the account's needs
        and meeting notes and from the practices played against them (a deletion request covers
        those too), and the account's charts (which show the person) are unpublished: their file
        names are left in `deleted_chart_files` for `bot.media.remove`. Returns how many texts
        were redacted.
        """
        self._own(person)
        redacted = 0
        if redact:
            names = {person.name}
            if name_key(person.name) != person.name:
                names.add(name_key(person.name))
            mark = "[…]"
            for row, attr in ([(n, "description") for n in person.account.needs]
                              + [(i, "summary") for i in person.account.interactions]):
                text = getattr(row, attr) or ""
                new = text
                for name in sorted(names, key=len, reverse=True):
                    new = re.sub(re.escape(name), mark, new, flags=re.IGNORECASE)
                if new != text:
                    setattr(row, attr, new)
                    redacted += 1
            self._redact_practices(person)
            self.deleted_chart_files += self.take_charts(person.account)
        self.session.delete(person)
        self.session.flush()
        return redacted

    def _redact_practices(self, person: Stakeholder) -> None:
        """Erases the person's name from the practices played against them (`own:<id>` scenarios)."""
        from bot.store.history import erase

        practices = select(PracticeSession).where(PracticeSession.team_id == self.team.id,
                                                  PracticeSession.scenario == f"own:{person.id}")
        for practice in self.session.scalars(practices):
            practice.title = erase(practice.title, [person.name])
            practice.transcript = erase(practice.transcript, [person.name])

    # opportunity ------------------------------------------------------------
    def opportunity(self, account: Account, create: bool = True) -> Optional[Opportunity]:
        """The account's current deal (the latest), created on first use."""
        self._own(account)
        if account.opportunities:
            return account.opportunities[-1]
        if not create:
            return None
        opp = Opportunity(team_id=self.team.id, account_id=account.id)
        self.session.add(opp)
        account.opportunities.append(opp)
        self.session.flush()
        return opp

    def update_deal(self, account: Account, **facts: Any) -> Tuple[Opportunity, Dict[str, Any]]:
        """Records deal facts: purchase_stage, budget, timeline, competitors (list, merged), criteria."""
        opp = self.opportunity(account)
        assert opp is not None
        changes: Dict[str, Any] = {}
        stage = _check(facts.get("purchase_stage"), PURCHASE_STAGES, "purchase_stage")
        if stage and stage != opp.purchase_stage:
            opp.purchase_stage = stage
            changes["purchase_stage"] = stage
        budget = facts.get("budget")
        if budget is not None:
            try:
                amount = Decimal(str(budget))
            except ArithmeticError:  # decimal.InvalidOperation: not a number at all
                raise InvalidFact("bad_amount", value=str(budget)) from None
            if not amount.is_finite() or amount < 0 or amount >= 10**16:
                raise InvalidFact("bad_amount", value=str(budget))
            budget = int(amount.to_integral_value())
            if opp.budget != budget:
                opp.budget = budget
                changes["budget"] = budget
        timeline = _short_text(facts.get("timeline"))
        if timeline and timeline != opp.timeline:
            opp.timeline = timeline
            changes["timeline"] = timeline
        new = [_text(c).strip() for c in facts.get("competitors") or [] if isinstance(c, str) and _text(c).strip()]
        known = {name_key(c) for c in opp.competitor_list}
        added = []
        for comp in new:
            if name_key(comp) not in known:
                known.add(name_key(comp))
                added.append(comp)
        if added:
            opp.competitors = "\n".join(opp.competitor_list + added)
            changes["competitors"] = added
        if facts.get("criteria"):
            opp.criteria = _text(facts["criteria"])
            changes["criteria"] = opp.criteria
        if changes:
            self._touch(account)
        self.session.flush()
        return opp, changes

    # needs and interactions -------------------------------------------------
    def add_need(self, account: Account, description: str, kind: Optional[str] = None,
                 stakeholder: Optional[Stakeholder] = None, source: str = "rep",
                 spin: Optional[str] = None) -> Tuple[Need, bool]:
        """Records a need; returns (need, created). The same text twice is stored once."""
        self._own(account)
        description = _text(description or "").strip()
        if not description:
            raise InvalidFact("empty_need")
        kind = _check(kind, NEED_KINDS, "need_type")
        spin = _check(spin, SPIN_TYPES, "spin")
        for need in account.needs:
            if need.description == description:
                if kind and need.kind != kind:
                    need.kind = kind
                    self.session.flush()
                return need, False
        need = Need(team_id=self.team.id, account_id=account.id, description=description, kind=kind,
                    stakeholder_id=stakeholder.id if stakeholder else None, source=source, spin=spin)
        self.session.add(need)
        account.needs.append(need)
        self._touch(account)
        self.session.flush()
        return need, True

    def log_interaction(self, account: Account, summary: str, stakeholder: Optional[Stakeholder] = None,
                        kind: str = "meeting") -> Interaction:
        """Logs a meeting or call with what was learned (the rep's own words).

        The same log by the same rep within `REPEAT_WINDOW` is returned instead of stored again.
        """
        self._own(account)
        summary = _text(summary or "")
        if not summary.strip():
            raise InvalidFact("empty_summary")
        stakeholder_id = stakeholder.id if stakeholder else None
        user_id = self.user.id if self.user else None
        # Two attempts of one log (two replicas, or a late first attempt) check one after the other:
        # the account row is locked until the end of the transaction (PostgreSQL; SQLite has one writer).
        self.session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
        recent = self.session.scalars(select(Interaction).where(
            Interaction.account_id == account.id, Interaction.kind == kind).order_by(Interaction.id.desc()).limit(20))
        for earlier in recent:  # a repeat of the same log: stored once
            if (earlier.summary == summary and earlier.kind == kind and earlier.stakeholder_id == stakeholder_id
                    and earlier.created_by == user_id and _recent(earlier.created_at)):
                return earlier
        item = Interaction(team_id=self.team.id, account_id=account.id, summary=summary, kind=kind,
                           stakeholder_id=stakeholder.id if stakeholder else None,
                           created_by=self.user.id if self.user else None)
        self.session.add(item)
        account.interactions.append(item)
        self._touch(account)
        self.session.flush()
        return item

    # conversations and charts -------------------------------------------------
    def remember_conversation(self, conversation_id: str) -> None:
        """Notes that the team talks to the bot in `conversation_id` (once)."""
        conversation_id = conversation_id[:400]
        stmt = select(Conversation.id).where(Conversation.team_id == self.team.id,
                                             Conversation.conversation_id == conversation_id)
        if self.session.execute(stmt).first() is not None:
            return
        try:
            with self.session.begin_nested():
                self.session.add(Conversation(team_id=self.team.id, conversation_id=conversation_id))
        except IntegrityError:  # noted concurrently
            pass

    def conversation_ids(self) -> List[str]:
        """Every conversation the team has had with the bot."""
        stmt = select(Conversation.conversation_id).where(Conversation.team_id == self.team.id)
        return list(self.session.scalars(stmt))

    def record_chart(self, file_name: str, account_id: Optional[int] = None) -> None:
        """Notes a published chart (of an account, when it shows one)."""
        account = self.account_by_id(account_id)
        self.session.add(Chart(team_id=self.team.id, account_id=account.id if account else None,
                               file_name=file_name))
        self.session.flush()

    def take_charts(self, account: Account) -> List[str]:
        """Forgets the account's charts and returns their file names (for `bot.media.remove`)."""
        self._own(account)
        rows = list(self.session.scalars(select(Chart).where(Chart.team_id == self.team.id,
                                                            Chart.account_id == account.id)))
        for row in rows:
            self.session.delete(row)
        self.session.flush()
        return [row.file_name for row in rows]

    # practice -----------------------------------------------------------------
    def record_practice(self, scenario: str, title: str, score: int, skills: Dict[str, int],
                        transcript: List[Dict[str, Any]]) -> PracticeSession:
        """Stores a finished practice of the caller (once: a repeat within `REPEAT_WINDOW` returns the first)."""
        if self.user is None:
            raise InvalidFact("no_user")
        scenario, transcript = _text(scenario)[:100], list(transcript)
        self.session.execute(select(User.id).where(User.id == self.user.id).with_for_update())  # as in log_interaction
        recent = self.session.scalars(select(PracticeSession).where(
            PracticeSession.team_id == self.team.id, PracticeSession.user_id == self.user.id,
            PracticeSession.scenario == scenario, PracticeSession.score == int(score))
            .order_by(PracticeSession.id.desc()).limit(5))
        for earlier in recent:  # the same practice ended twice (a repeated "end"): stored once
            if earlier.transcript == transcript and _recent(earlier.created_at):
                return earlier
        row = PracticeSession(team_id=self.team.id, user_id=self.user.id, scenario=scenario,
                              title=_text(title or "")[:300], score=int(score), skills=dict(skills),
                              transcript=transcript)
        self.session.add(row)
        self.session.flush()
        return row

    def practice_history(self, limit: int = 20) -> List[PracticeSession]:
        """The caller's practices, oldest first (the latest `limit`)."""
        if self.user is None:
            return []
        stmt = (select(PracticeSession).where(PracticeSession.team_id == self.team.id,
                                              PracticeSession.user_id == self.user.id)
                .order_by(PracticeSession.created_at.desc(), PracticeSession.id.desc()).limit(limit))
        return list(reversed(list(self.session.execute(stmt).scalars())))

    # export -------------------------------------------------------------------
    def export_account(self, account: Account) -> Dict[str, Any]:
        """Everything recorded about an account, as plain data."""
        self._own(account)
        opp = self.opportunity(account, create=False)
        return {
            "account": {"name": account.name, "industry": account.industry, "tier": account.tier,
                        "account_level": account.account_level, "notes": account.notes},
            "stakeholders": [
                {"name": p.name, "title": p.title, "department": p.department, "buying_roles": p.roles,
                 "attitude": p.attitude, "influence": p.influence, "relationship_stage": p.relationship_stage,
                 "path_role": p.path_role, "personal_notes": p.personal_notes}
                for p in account.stakeholders
            ],
            "opportunity": None if opp is None else {
                "purchase_stage": opp.purchase_stage,
                "budget": opp.budget,
                "timeline": opp.timeline, "competitors": opp.competitor_list, "criteria": opp.criteria},
            "needs": [{"kind": n.kind, "description": n.description, "source": n.source, "spin": n.spin}
                      for n in account.needs],
            "interactions": [{"kind": i.kind, "summary": i.summary, "occurred_at": i.occurred_at.isoformat()}
                             for i in account.interactions],
        }

    @staticmethod
    def _touch(account: Account) -> None:
        account.updated_at = utcnow()

    def _own(self, row: Any) -> None:
        if row.team_id != self.team.id:
            raise PermissionError("row belongs to another team")


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
