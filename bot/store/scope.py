"""`TeamScope`: all reads and writes of one team, inside one transaction."""
from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.language import name_key
from bot.store.models import (
    Account,
    Change,
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
from bot.store.values import (
    ATTITUDES,
    BUYING_ROLES,
    MAX_NAME,
    NEED_KINDS,
    PATH_ROLES,
    PURCHASE_STAGES,
    RELATIONSHIP_STAGES,
    SPIN_TYPES,
    InvalidFact,
    _check,
    _recent,
    _short_text,
    _text,
    _trimmed,
    clean_name,
    lookup_key,
    store_key,
)


@dataclass
class TeamScope:
    """All reads and writes of one team, inside one transaction."""

    session: Session
    team: Team
    user: Optional[User]
    #: this transaction's batch in the change log (`bot.store.changes`), made on its first write
    batch: Optional[str] = None
    #: charts unpublished by `delete_stakeholder` in this transaction (files to remove after it commits)
    deleted_chart_files: List[str] = dataclass_field(default_factory=list)

    # accounts -------------------------------------------------------------
    def list_accounts(self) -> List[Account]:
        """The team's accounts, most recently updated first."""
        stmt = select(Account).where(Account.team_id == self.team.id).order_by(Account.updated_at.desc(),
                                                                                Account.id.desc())
        return list(self.session.execute(stmt).scalars())

    def match_accounts(self, name: str) -> List[Account]:
        """The account `name` means, or the candidates when several fit (`bot.resolve.resolve_account`).

        An exact name (in either Chinese script, any case) decides; a short form ("宏盛" for 宏盛机械,
        "Contoso" for Contoso Ltd) decides only when no other account fits it. A longer name is
        never matched to a shorter existing one ("Acme Logistics" is not "Acme"), so a new
        account is not silently merged into an old one.
        """
        from bot.resolve import resolve_account

        if not lookup_key(name):
            return []
        found = resolve_account(self.list_accounts(), _trimmed(name))
        return [found.found] if found.found is not None else list(found.candidates)

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
            self._created(account)
        for field, value in values.items():
            if value:
                self._set(account, field, value)
        self.session.flush()
        return account, created

    def delete_account(self, account: Account) -> None:
        """Deletes an account and everything recorded about it.

        Its charts are unpublished: their file names are left in `deleted_chart_files` for
        `bot.media.remove` once the transaction has committed.
        """
        from bot.store.changes import close_history

        self._own(account)
        close_history(self)
        self.deleted_chart_files += self.take_charts(account)
        self._redact_practices([account.name] + [p.name for p in account.stakeholders])
        self.session.delete(account)
        self.session.flush()

    # stakeholders -----------------------------------------------------------
    def find_stakeholders(self, name: str, account: Optional[Account] = None) -> List[Stakeholder]:
        """The person `name` means (in one account or across the team), or the candidates when several fit.

        Short forms count (`bot.resolve.resolve_person`): a first name, a surname with an
        honorific (王总, 李工, Ms. Lopez), 老王, a nickname (Dave for David).
        """
        from bot.resolve import resolve_person

        if not lookup_key(name):
            return []
        stmt = select(Stakeholder).where(Stakeholder.team_id == self.team.id)
        if account is not None:
            stmt = stmt.where(Stakeholder.account_id == account.id)
        people = list(self.session.execute(stmt).scalars())
        exact = [p for p in people if p.name_key == lookup_key(name)]
        if exact:
            return exact
        found = resolve_person(people, _trimmed(name))
        return [found.found] if found.found is not None else list(found.candidates)

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
            self._created(person)
        changes: Dict[str, Any] = {}
        for field in ("title", "department"):
            value = _short_text(facts.get(field))
            if value and self._set(person, field, value):
                changes[field] = value
        roles = [_check(r, BUYING_ROLES, "buying_role") for r in facts.get("buying_roles") or []]
        dropped = [r for r in facts.get("drop_buying_roles") or [] if r in person.roles]
        if roles or dropped:
            kept = [r for r in person.roles if r not in dropped]
            merged = kept + [r for r in roles if r not in kept]
            if self._set(person, "buying_roles", ",".join(merged) or None):
                changes["buying_roles"] = roles
                if dropped:
                    changes["dropped_buying_roles"] = dropped
        for field, allowed in (("attitude", ATTITUDES), ("relationship_stage", RELATIONSHIP_STAGES),
                               ("path_role", PATH_ROLES)):
            value = _check(facts.get(field), allowed, field)
            if value and self._set(person, field, value):
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
            if self._set(person, "influence", influence):
                changes["influence"] = influence
        note = _text(facts.get("personal_notes"))
        if note:
            self._set(person, "personal_notes", f"{person.personal_notes}\n{note}" if person.personal_notes else note)
            changes["personal_notes"] = note
        self._touch(account)
        self.session.flush()
        return person, created, changes

    def rename_stakeholder(self, person: Stakeholder, name: str) -> None:
        """Gives a person the fuller name the rep used (Tom → Tom Becker), unless someone else has it."""
        self._own(person)
        name = clean_name(name)
        key = store_key(name)
        taken = select(Stakeholder.id).where(Stakeholder.account_id == person.account_id, Stakeholder.name_key == key,
                                             Stakeholder.id != person.id)
        if self.session.execute(taken).first() is None:
            self._set(person, "name", name)
            self._set(person, "name_key", key)
            self.session.flush()

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
        from bot.store.changes import close_history
        from bot.store.history import erase

        self._own(person)
        close_history(self)
        redacted = 0
        if redact:
            # every form of the name a rep uses (Maria, Lopez, 王总, 老王), whole words only
            for row, attr in ([(n, "description") for n in person.account.needs]
                              + [(i, "summary") for i in person.account.interactions]):
                text = getattr(row, attr) or ""
                new = erase(text, [person.name])
                if new != text:
                    setattr(row, attr, new)
                    redacted += 1
            self._redact_practices([person.name], own_person=person)
            self.deleted_chart_files += self.take_charts(person.account)
        self.session.delete(person)
        self.session.flush()
        return redacted

    def _redact_practices(self, names: List[str], own_person: Optional[Stakeholder] = None) -> None:
        """Erases `names` from the team's practices (titles and transcripts).

        The practices played against a stored person (``own:<id>``) and every other practice
        that mentions the names (a scenario built on the account) are covered.
        """
        from bot.store.history import erase, name_pattern

        pattern = name_pattern(names)
        if pattern is None:
            return
        practices = select(PracticeSession).where(PracticeSession.team_id == self.team.id)
        for practice in self.session.scalars(practices):
            if own_person is not None and practice.scenario == f"own:{own_person.id}" or pattern.search(
                    f"{practice.title} {practice.transcript}"):
                practice.title = erase(practice.title, names)
                practice.transcript = erase(practice.transcript, names)

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
        self._created(opp)
        return opp

    def update_deal(self, account: Account, **facts: Any) -> Tuple[Opportunity, Dict[str, Any]]:
        """Records deal facts: purchase_stage, budget, timeline, competitors (list, merged), criteria."""
        opp = self.opportunity(account)
        assert opp is not None
        changes: Dict[str, Any] = {}
        stage = _check(facts.get("purchase_stage"), PURCHASE_STAGES, "purchase_stage")
        if stage and self._set(opp, "purchase_stage", stage):
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
            if self._set(opp, "budget", budget):
                changes["budget"] = budget
        timeline = _short_text(facts.get("timeline"))
        if timeline and self._set(opp, "timeline", timeline):
            changes["timeline"] = timeline
        new = [_text(c).strip() for c in facts.get("competitors") or [] if isinstance(c, str) and _text(c).strip()]
        dropped = {name_key(c) for c in facts.get("drop_competitors") or [] if isinstance(c, str)}
        kept = [c for c in opp.competitor_list if name_key(c) not in dropped]
        known = {name_key(c) for c in kept}
        added = []
        for comp in new:
            if name_key(comp) not in known:
                known.add(name_key(comp))
                added.append(comp)
        if (added or len(kept) != len(opp.competitor_list)) and self._set(opp, "competitors",
                                                                          "\n".join(kept + added) or None):
            changes["competitors"] = added
        if facts.get("criteria") and self._set(opp, "criteria", _text(facts["criteria"])):
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
                if kind and self._set(need, "kind", kind):
                    self.session.flush()
                return need, False
        need = Need(team_id=self.team.id, account_id=account.id, description=description, kind=kind,
                    stakeholder_id=stakeholder.id if stakeholder else None, source=source, spin=spin)
        self.session.add(need)
        account.needs.append(need)
        self._touch(account)
        self.session.flush()
        self._created(need)
        return need, True

    def log_interaction(self, account: Account, summary: str, stakeholder: Optional[Stakeholder] = None,
                        kind: str = "meeting", occurred_at: Optional[datetime] = None) -> Interaction:
        """Logs a meeting or call with what was learned (the rep's own words), on the day it happened.

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
                           created_by=self.user.id if self.user else None,
                           occurred_at=occurred_at or utcnow())
        self.session.add(item)
        account.interactions.append(item)
        self._touch(account)
        self.session.flush()
        self._created(item)
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
        """Forgets the charts that may show the account and returns their file names (for `bot.media.remove`).

        Those are the account's own charts and the team's charts of no one account (the practice
        history, whose practice titles may name it).
        """
        self._own(account)
        rows = list(self.session.scalars(select(Chart).where(
            Chart.team_id == self.team.id, (Chart.account_id == account.id) | Chart.account_id.is_(None))))
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

    # the change log ------------------------------------------------------------
    def _log(self, row: Any, field: str, old: Any, new: Any) -> None:
        from bot.store.changes import new_batch, target_of

        self.session.flush()  # the row has its id
        self.batch = self.batch or new_batch()
        self.session.add(Change(team_id=self.team.id, user_id=self.user.id if self.user else None, batch=self.batch,
                                target=target_of(row), target_id=row.id, field=field, old=old, new=new))

    def _created(self, row: Any) -> None:
        from bot.store.changes import CREATED

        self._log(row, CREATED, None, None)

    def _set(self, row: Any, field: str, value: Any) -> bool:
        """Sets a field and logs its old value; False when it already had that value."""
        old = getattr(row, field)
        if old == value:
            return False
        setattr(row, field, value)
        self._log(row, field, old, value)
        return True

    def undo_latest(self) -> Any:
        """Reverts what the caller's latest message saved (`bot.store.changes.undo_latest`)."""
        from bot.store.changes import undo_latest

        return undo_latest(self)

    @staticmethod
    def _touch(account: Account) -> None:
        account.updated_at = utcnow()

    def _own(self, row: Any) -> None:
        if row.team_id != self.team.id:
            raise PermissionError("row belongs to another team")


