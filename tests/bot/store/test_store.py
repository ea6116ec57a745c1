"""The account store on SQLite and on the local PostgreSQL server."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from bot.store import AccountStore, InvalidFact
from bot.store.db import make_engine, make_session_factory
from bot.store.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request) -> AccountStore:  # noqa: ANN001
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
        upgrade(url)
    return AccountStore(make_session_factory(url))


def test_migrations_create_the_methodology_schema(sqlite_url):
    tables = set(inspect(make_engine(sqlite_url)).get_table_names())
    assert {"teams", "users", "accounts", "stakeholders", "opportunities", "needs", "interactions",
            "alembic_version"} <= tables


def test_migrations_run_on_postgres(postgres_url):
    upgrade(postgres_url)
    upgrade(postgres_url)  # idempotent
    tables = set(inspect(make_engine(postgres_url)).get_table_names())
    assert {"accounts", "stakeholders", "opportunities", "needs", "interactions"} <= tables


def test_account_stakeholder_deal_need_interaction_round_trip(any_store):
    with any_store.team("team-a", "rep-1") as scope:
        account, created = scope.get_or_create_account("华东精密", industry="汽车零部件")
        assert created
        person, p_created, changes = scope.upsert_stakeholder(
            account, "刘建国", title="技术总监", buying_roles=["technical"], attitude="supporter", influence=60,
            relationship_stage="engaged")
        assert p_created and changes == {"title": "技术总监", "buying_roles": ["technical"],
                                         "attitude": "supporter", "influence": 60,
                                         "relationship_stage": "engaged"}
        _opp, deal = scope.update_deal(account, purchase_stage="technical_screening", budget=2_000_000,
                                       timeline="明年三月", competitors=["西门子", "ABB"])
        assert deal["competitors"] == ["西门子", "ABB"]
        scope.add_need(account, "降低IT运维成本", kind="implicit", stakeholder=person)
        scope.log_interaction(account, "和刘建国开会，他说旺季产能是瓶颈", stakeholder=person)

    with any_store.team("team-a", "rep-1") as scope:
        account = scope.find_account("華東精密")  # traditional script finds the same account
        assert account is not None and account.industry == "汽车零部件"
        exported = scope.export_account(account)
    assert exported["stakeholders"][0]["influence"] == 60
    assert exported["stakeholders"][0]["buying_roles"] == ["technical"]
    assert exported["opportunity"] == {"purchase_stage": "technical_screening", "budget": 2_000_000,
                                       "timeline": "明年三月", "competitors": ["西门子", "ABB"], "criteria": None}
    assert exported["needs"] == [{"kind": "implicit", "description": "降低IT运维成本", "source": "rep", "spin": None}]
    assert exported["interactions"][0]["summary"] == "和刘建国开会，他说旺季产能是瓶颈"


def test_updates_merge_roles_and_report_only_changes(store):
    with store.team("t", "u") as scope:
        account, _ = scope.get_or_create_account("Acme")
        scope.upsert_stakeholder(account, "Maria Lopez", buying_roles=["financial"], attitude="neutral")
        person, created, changes = scope.upsert_stakeholder(account, "maria lopez", buying_roles=["economic_buyer"],
                                                            attitude="neutral", influence=40)
        assert not created
        assert changes == {"buying_roles": ["economic_buyer"], "influence": 40}
        assert person.roles == ["financial", "economic_buyer"]
        _opp, changes = scope.update_deal(account, competitors=["SAP"])
        _opp, changes = scope.update_deal(account, competitors=["sap", "Oracle"])
        assert changes == {"competitors": ["Oracle"]}


def test_a_team_never_sees_another_teams_accounts(any_store):
    with any_store.team("team-a", "alice") as scope:
        account, _ = scope.get_or_create_account("Acme")
        scope.upsert_stakeholder(account, "Maria Lopez", attitude="supporter")
    with any_store.team("team-b", "bob") as scope:
        assert scope.list_accounts() == []
        assert scope.find_account("Acme") is None
        assert scope.find_stakeholders("Maria Lopez") == []
        other, created = scope.get_or_create_account("Acme")  # same name, separate record
        assert created
        assert other.stakeholders == []
    with any_store.team("team-a", "alice") as scope:
        mine = scope.find_account("Acme")
        assert [p.name for p in mine.stakeholders] == ["Maria Lopez"]


def test_rows_of_another_team_cannot_be_written_or_read_by_id(store):
    with store.team("team-a", "alice") as scope:
        account, _ = scope.get_or_create_account("Acme")
        account_id = account.id
        person, _, _ = scope.upsert_stakeholder(account, "Maria")
        person_id = person.id
    with store.team("team-b", "bob") as scope:
        assert scope.account_by_id(account_id) is None
        assert scope.stakeholder_by_id(person_id) is None
        foreign = scope.session.get(type(account), account_id)
        with pytest.raises(PermissionError):
            scope.upsert_stakeholder(foreign, "Eve")
        with pytest.raises(PermissionError):
            scope.delete_account(foreign)


def test_a_failed_turn_leaves_no_partial_record(store):
    with pytest.raises(InvalidFact):
        with store.team("t", "u") as scope:
            account, _ = scope.get_or_create_account("New Co")
            scope.upsert_stakeholder(account, "Bob", influence=150)  # invalid: rolls back the account too
    with store.team("t", "u") as scope:
        assert scope.list_accounts() == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_invalid_names_are_refused(store, name):
    with pytest.raises(InvalidFact):
        with store.team("t", "u") as scope:
            scope.get_or_create_account(name)


def test_account_matching_by_part_of_the_name(store):
    with store.team("t", "u") as scope:
        scope.get_or_create_account("华东精密机械")
        scope.get_or_create_account("Acme Corp")
        scope.get_or_create_account("Acme Logistics")
        assert scope.find_account("华东精密").name == "华东精密机械"
        assert scope.find_account("Acme") is None  # ambiguous
        assert {a.name for a in scope.match_accounts("Acme")} == {"Acme Corp", "Acme Logistics"}


def test_same_need_twice_is_stored_once_and_deletion_removes_everything(store):
    with store.team("t", "u") as scope:
        account, _ = scope.get_or_create_account("Acme")
        person, _, _ = scope.upsert_stakeholder(account, "Maria", personal_notes="likes golf")
        _, first = scope.add_need(account, "cut downtime")
        _, second = scope.add_need(account, "cut downtime", kind="explicit")
        assert first and not second
        assert [(n.description, n.kind) for n in account.needs] == [("cut downtime", "explicit")]
        scope.clear_personal_notes(person)
        assert person.personal_notes is None
    with store.team("t", "u") as scope:
        scope.delete_account(scope.find_account("Acme"))
    with store.team("t", "u") as scope:
        assert scope.list_accounts() == []
        from bot.store import Need, Stakeholder

        assert scope.session.query(Stakeholder).count() == 0
        assert scope.session.query(Need).count() == 0
