"""The change log and "undo" (bot.store.changes) on a real SQLite database (and PostgreSQL)."""
from __future__ import annotations

import pytest

from bot.store import AccountStore
from bot.store.changes import CREATED
from bot.store.db import make_session_factory


def test_undo_reverts_the_latest_message_then_the_one_before(store):
    with store.team("t", "rep") as scope:
        account, _ = scope.get_or_create_account("Initech", industry="software")
        scope.upsert_stakeholder(account, "Dave Wilson", title="CIO", attitude="neutral")
    with store.team("t", "rep") as scope:
        account = scope.find_account("Initech")
        scope.upsert_stakeholder(account, "Dave Wilson", title="CFO", attitude="supporter", influence=60)
    with store.team("t", "rep") as scope:
        reverted = scope.undo_latest()
        assert {(r.field, r.old, r.new) for r in reverted} == {
            ("title", "CIO", "CFO"), ("attitude", "neutral", "supporter"), ("influence", None, 60)}
    with store.team("t", "rep") as scope:
        dave = scope.find_stakeholders("Dave Wilson")[0]
        assert (dave.title, dave.attitude, dave.influence) == ("CIO", "neutral", None)
        reverted = scope.undo_latest()  # one further back: the account and Dave were created then
        assert {(r.target, r.field) for r in reverted} >= {("account", CREATED), ("person", CREATED)}
    with store.team("t", "rep") as scope:
        assert scope.list_accounts() == []
        assert scope.undo_latest() is None  # nothing left to undo


def test_undo_keeps_an_account_that_other_facts_hang_on(store):
    with store.team("t", "rep") as scope:
        scope.get_or_create_account("Globex")
    with store.team("t", "rep") as scope:
        scope.upsert_stakeholder(scope.find_account("Globex"), "Hank Scorpio", title="CEO")
    with store.team("t", "rep") as scope:
        scope.undo_latest()  # Hank goes
    with store.team("t", "colleague") as scope:  # a colleague adds to the account meanwhile
        scope.add_need(scope.find_account("Globex"), "faster month-end close")
    with store.team("t", "rep") as scope:
        reverted = scope.undo_latest()  # the rep's account creation: the colleague's need hangs on it
        assert reverted == []
        assert [a.name for a in scope.list_accounts()] == ["Globex"]


def test_a_field_changed_again_since_is_not_put_back(store):
    with store.team("t", "rep") as scope:
        account, _ = scope.get_or_create_account("Umbrella")
        scope.update_deal(account, budget=1_000_000)
    with store.team("t", "other") as scope:
        scope.update_deal(scope.find_account("Umbrella"), budget=2_000_000)
    with store.team("t", "rep") as scope:
        reverted = scope.undo_latest()
        assert all(r.field != "budget" for r in reverted)
    with store.team("t", "rep") as scope:
        assert scope.find_account("Umbrella") is not None  # the colleague's budget hangs on the deal


def test_undo_sees_only_the_callers_own_team_and_saves(store):
    with store.team("a", "rep") as scope:
        scope.get_or_create_account("Alpha")
    with store.team("b", "rep") as scope:
        assert scope.undo_latest() is None
    with store.team("a", "someone-else") as scope:
        assert scope.undo_latest() is None
    with store.team("a", "rep") as scope:
        assert scope.list_accounts()[0].name == "Alpha"


def test_renaming_and_replacing_roles_are_logged_and_undone(store):
    with store.team("t", "rep") as scope:
        account, _ = scope.get_or_create_account("Hooli")
        tom, _, _ = scope.upsert_stakeholder(account, "Tom", buying_roles=["economic_buyer"])
    with store.team("t", "rep") as scope:
        tom = scope.find_stakeholders("Tom")[0]
        scope.rename_stakeholder(tom, "Tom Becker")
        scope.upsert_stakeholder(tom.account, "Tom Becker", buying_roles=["technical"],
                                 drop_buying_roles=["economic_buyer"])
    with store.team("t", "rep") as scope:
        tom = scope.find_stakeholders("Tom Becker")[0]
        assert tom.roles == ["technical"]
        scope.undo_latest()
    with store.team("t", "rep") as scope:
        tom = scope.find_stakeholders("Tom")[0]
        assert (tom.name, tom.roles) == ("Tom", ["economic_buyer"])


@pytest.mark.postgres
def test_undo_on_postgresql(postgres_url):
    from bot.store.migrate import upgrade

    upgrade(postgres_url)
    store = AccountStore(make_session_factory(postgres_url))
    with store.team("t", "rep") as scope:
        account, _ = scope.get_or_create_account("Vandelay Industries")
        scope.upsert_stakeholder(account, "Art Vandelay", title="CEO")
    with store.team("t", "rep") as scope:
        assert {r.target for r in scope.undo_latest()} == {"account", "person"}
    with store.team("t", "rep") as scope:
        assert scope.list_accounts() == []


def test_undo_after_a_deletion_reverts_nothing_from_before_it(store):
    """"删除中科电子这个客户" → "好的" → "撤销" reset another account's deal instead (new-user tour)."""
    with store.team("t", "rep") as scope:
        hr, _ = scope.get_or_create_account("恒瑞制药")
        scope.update_deal(hr, budget=5_000_000, competitors=["东软"])
    with store.team("t", "rep") as scope:
        zk, _ = scope.get_or_create_account("中科电子")
    with store.team("t", "rep") as scope:
        scope.delete_account(scope.find_account("中科电子"))
    with store.team("t", "rep") as scope:
        assert scope.undo_latest() is None
        opp = scope.opportunity(scope.find_account("恒瑞制药"), create=False)
        assert opp.budget == 5_000_000 and opp.competitor_list == ["东软"]
