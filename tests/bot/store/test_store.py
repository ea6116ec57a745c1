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


# --- names, keys and texts as stored (bugs found by fuzzing, docs/fuzzing.md 9, 13–17) ---------------------


@pytest.mark.parametrize("raw, cleaned", [
    ("  Acme  ", "Acme"),
    ("“ Acme ”", "Acme"),                   # spaces inside the quotes too
    ("， Acme .", "Acme"),
    ("Maria Lopez;", "Maria Lopez"),
    ("刘建国：", "刘建国"),
    ("\u200b\ufeffAcme\u200d", "Acme"),     # zero-width characters at the ends
    ("Ac\x00me\x1b Co", "Acme Co"),         # control characters removed anywhere
    ("\u202eAcme\u202c", "Acme"),           # bidi overrides removed anywhere
    ("👨‍👩‍👧‍👦 Family Co", "👨‍👩‍👧‍👦 Family Co"),  # a ZWJ inside an emoji stays
    ("Acme\nCorp", "Acme\nCorp"),
])
def test_clean_name(raw, cleaned):
    from bot.store import clean_name

    assert clean_name(raw) == cleaned
    assert clean_name(cleaned) == cleaned  # idempotent


@pytest.mark.parametrize("raw, code", [
    ("\u202e", "empty_name"), ("\u200b", "empty_name"), ("\x00", "empty_name"), ("\u0301", "empty_name"),
    ("\u2066\u2069", "empty_name"), ("--", "empty_name"), ("()", "empty_name"), ("·", "empty_name"),
    ("“ ”()", "empty_name"), ("x" * 201, "name_too_long"), ("“" + "x" * 200 + "”", None),
])
def test_names_without_anything_to_find_them_by_are_refused(store, raw, code):
    from bot.store import clean_name

    if code is None:
        assert clean_name(raw) == "x" * 200
        return
    with pytest.raises(InvalidFact) as refused:
        clean_name(raw)
    assert refused.value.code == code
    with pytest.raises(InvalidFact):
        with store.team("t", "u") as scope:
            scope.get_or_create_account(raw)
    with store.team("t", "u") as scope:
        assert scope.list_accounts() == []


def test_a_person_is_found_by_the_name_as_the_rep_typed_it(store):
    with store.team("t", "u") as scope:
        account, _ = scope.get_or_create_account("Acme?")
        person, created, _ = scope.upsert_stakeholder(account, "Maria Lopez;")
        assert (account.name, person.name, created) == ("Acme", "Maria Lopez", True)
        assert scope.find_account("Acme?") is account and scope.find_account("“Acme”") is account
        assert scope.find_stakeholders("Maria Lopez:") == [person]
        again, created, _ = scope.upsert_stakeholder(account, "maria lopez")
        assert again is person and not created


def test_a_key_longer_than_its_column_is_shortened_and_still_found(any_store):
    from bot.store import MAX_NAME, lookup_key, store_key

    long_name = "\ufdfa" * 150  # 150 characters, its NFKC key 2,700
    with any_store.team("t", "u") as scope:
        account, created = scope.get_or_create_account(long_name)
        person, _, _ = scope.upsert_stakeholder(account, long_name)
        other, other_created = scope.get_or_create_account("\ufdfa" * 149 + "x")
    assert created and other_created and account.id != other.id
    assert len(account.name_key) == len(person.name_key) == MAX_NAME
    assert account.name_key == store_key(long_name) == lookup_key(f"“{long_name}”")
    assert store_key("Acme Corp") == "acmecorp"  # short keys are unchanged
    with any_store.team("t", "u") as scope:
        assert scope.find_account(long_name).id == account.id
        assert [p.id for p in scope.find_stakeholders(long_name)] == [person.id]


def test_nul_characters_are_removed_from_every_text(any_store):
    with any_store.team("t", "u") as scope:
        account, _ = scope.get_or_create_account("Ac\x00me", industry="auto\x00motive")
        scope.upsert_stakeholder(account, "Bo\x00b", title="C\x00FO", personal_notes="likes\x00 golf")
        scope.update_deal(account, timeline="Q\x003", competitors=["SA\x00P"], criteria="pri\x00ce")
        scope.add_need(account, "cut\x00 downtime")
        scope.log_interaction(account, "Met\x00 them")
    with any_store.team("t", "u") as scope:
        exported = scope.export_account(scope.find_account("Acme"))
    assert "\x00" not in repr(exported)
    assert exported["account"]["industry"] == "automotive"
    assert exported["stakeholders"][0]["name"] == "Bob" and exported["stakeholders"][0]["title"] == "CFO"
    assert exported["stakeholders"][0]["personal_notes"] == "likes golf"
    assert exported["opportunity"]["timeline"] == "Q3" and exported["opportunity"]["competitors"] == ["SAP"]
    assert exported["needs"][0]["description"] == "cut downtime"
    assert exported["interactions"][0]["summary"] == "Met them"


@pytest.mark.parametrize("facts", [{"industry": "x" * 201}, {"tier": "x" * 41}, {"account_level": "x" * 41}])
def test_an_over_long_account_fact_is_refused(store, facts):
    with pytest.raises(InvalidFact) as refused:
        with store.team("t", "u") as scope:
            scope.get_or_create_account("Acme", **facts)
    assert refused.value.code == "name_too_long"
    with store.team("t", "u") as scope:
        assert scope.list_accounts() == []


@pytest.mark.parametrize("field, value, code", [
    ("influence", float("inf"), "bad_influence"), ("influence", float("nan"), "bad_influence"),
    ("influence", "abc", "bad_influence"), ("influence", [1], "bad_influence"),
    ("budget", float("inf"), "bad_amount"), ("budget", "1e309", "bad_amount"), ("budget", "abc", "bad_amount"),
    ("budget", -5, "bad_amount"), ("timeline", "x" * 201, "name_too_long"),
])
def test_numbers_that_are_no_numbers_are_refused(store, field, value, code):
    with pytest.raises(InvalidFact) as refused:
        with store.team("t", "u") as scope:
            account, _ = scope.get_or_create_account("Acme")
            if field == "influence":
                scope.upsert_stakeholder(account, "Bob", influence=value)
            else:
                scope.update_deal(account, **{field: value})
    assert refused.value.code == code
