"""The account store's tables, following shared/METHODOLOGY.md §1.

Every row that holds customer knowledge carries `team_id`, and every query in
`bot.store.scope` filters on it: a rep sees only their own team's accounts.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Team(Base):
    """A sales team (a Slack workspace, a WeCom corp, or a single anonymous rep)."""

    __tablename__ = "teams"
    id = Column(Integer, primary_key=True)
    key = Column(String(200), nullable=False, unique=True)
    name = Column(String(200))
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)


class User(Base):
    """A rep, identified by their channel identity within a team."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("team_id", "external_id"),)
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    external_id = Column(String(200), nullable=False)
    display_name = Column(String(200))
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)


class Account(Base):
    """A customer company (客户).

    `tier` is global/national/regional (seed 001); `account_level` is our standing
    with the account: one_of_suppliers → preferred_supplier → business_advisor →
    strategic_partner (seed 003).
    """

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("team_id", "name_key"),)
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    name_key = Column(String(200), nullable=False)
    industry = Column(String(200))
    tier = Column(String(40))
    account_level = Column(String(40))
    notes = Column(Text)
    created_by = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at = Column(DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False)

    stakeholders = relationship("Stakeholder", back_populates="account", cascade="all, delete-orphan",
                                order_by="Stakeholder.id")
    opportunities = relationship("Opportunity", back_populates="account", cascade="all, delete-orphan",
                                 order_by="Opportunity.id")
    needs = relationship("Need", back_populates="account", cascade="all, delete-orphan", order_by="Need.id")
    interactions = relationship("Interaction", back_populates="account", cascade="all, delete-orphan",
                                order_by="Interaction.id")


class Stakeholder(Base):
    """A person at the customer: a node of the power map (权力地图).

    `buying_roles` is a comma-separated list of economic_buyer, user, financial,
    technical, coach (one person may hold several roles); `attitude` is supporter,
    neutral or opponent; `influence` a 0–100 weight; `relationship_stage` one of
    acquainted, engaged, trusted, ally; `path_role` acceptor, dissatisfied, power.
    """

    __tablename__ = "stakeholders"
    __table_args__ = (UniqueConstraint("account_id", "name_key"),)
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    name_key = Column(String(200), nullable=False)
    title = Column(String(200))
    department = Column(String(200))
    buying_roles = Column(String(200))
    attitude = Column(String(20))
    influence = Column(Integer)
    relationship_stage = Column(String(20))
    path_role = Column(String(20))
    personal_notes = Column(Text)
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at = Column(DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False)

    account = relationship("Account", back_populates="stakeholders")

    @property
    def roles(self) -> list[str]:
        return [r for r in (self.buying_roles or "").split(",") if r]


class Opportunity(Base):
    """A deal (项目/商机) at an account: purchase stage, budget, timeline, competitors."""

    __tablename__ = "opportunities"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(200))
    purchase_stage = Column(String(40))
    budget = Column(BigInteger)  # whole currency units
    timeline = Column(String(200))
    competitors = Column(Text)
    criteria = Column(Text)
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)
    updated_at = Column(DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False)

    account = relationship("Account", back_populates="opportunities")

    @property
    def competitor_list(self) -> list[str]:
        return [c for c in (self.competitors or "").split("\n") if c]


class Need(Base):
    """A customer need: explicit, implicit or strategic (needs iceberg, seed 000).

    Needs learned in a meeting debrief also carry their SPIN type: a problem, an
    implication of a problem, or a need-payoff (the value of solving it).
    """

    __tablename__ = "needs"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    stakeholder_id = Column(Integer, ForeignKey("stakeholders.id", ondelete="SET NULL"))
    kind = Column(String(20))
    description = Column(Text, nullable=False)
    source = Column(String(20), default="rep")
    spin = Column(String(20))  # problem / implication / need_payoff, when learned in a SPIN debrief
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)

    account = relationship("Account", back_populates="needs")


class Interaction(Base):
    """A meeting, call or visit with what was learned."""

    __tablename__ = "interactions"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True)
    stakeholder_id = Column(Integer, ForeignKey("stakeholders.id", ondelete="SET NULL"))
    kind = Column(String(20), default="meeting", nullable=False)
    summary = Column(Text, nullable=False)
    occurred_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)
    created_by = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)

    account = relationship("Account", back_populates="interactions")


class PracticeSession(Base):
    """A finished role-play practice of one rep: score, per-skill points and the transcript."""

    __tablename__ = "practice_sessions"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    scenario = Column(String(100), nullable=False)
    title = Column(String(300))
    score = Column(Integer, nullable=False)
    skills = Column(JSON, nullable=False)       # skill -> 0..100
    transcript = Column(JSON, nullable=False)   # [{move, text, reply}]
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)


class Conversation(Base):
    """A conversation id (Rasa's sender id) in which a team's rep talked to the bot.

    A data-rights deletion erases the deleted names from the conversation history of every one
    of the team's conversations (`bot.store.history`).
    """

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("team_id", "conversation_id"),)
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    conversation_id = Column(String(400), nullable=False)
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)


class Chart(Base):
    """A published picture (`bot.media`): deleted with the account it shows, and when it expires."""

    __tablename__ = "charts"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    file_name = Column(String(100), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)


class SeenKey(Base):
    """A webhook event already handled (Slack event id, WeCom MsgId), until `expires_at`."""

    __tablename__ = "seen_keys"
    key = Column(String(200), primary_key=True)
    expires_at = Column(DateTime(timezone=True), nullable=False, index=True)


class Change(Base):
    """One fact the bot saved, with its value before, so "undo" can put it back.

    A batch is everything one message saved (one transaction); `undone_at` marks a batch
    reverted by "undo". `field` is ``*created*`` for a row the batch created.
    """

    __tablename__ = "changes"
    id = Column(Integer, primary_key=True)
    team_id = Column(Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    batch = Column(String(32), nullable=False, index=True)
    target = Column(String(20), nullable=False)     # account | person | deal | need | meeting
    target_id = Column(Integer, nullable=False)
    field = Column(String(40), nullable=False)
    old = Column(JSON)
    new = Column(JSON)
    created_at = Column(DateTime(timezone=True), default=utcnow, nullable=False)
    undone_at = Column(DateTime(timezone=True))
