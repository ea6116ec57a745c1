"""Data rights with real rasa_sdk trackers and a real SQLite store: export, confirmed deletion."""
from __future__ import annotations

from sqlalchemy import func, select

from actions.data_rights import ActionDeleteData, ActionExportAccount
from actions.general import ActionAffirmIdle, ActionDenyIdle
from bot.store.models import Account, Interaction, Need, Stakeholder
from tests.actions.test_account_actions import run
from tests.conftest import entity, make_tracker, slot_events, texts


def seed(store, team="solo:rep-1"):  # noqa: ANN001, ANN201
    with store.team(team) as scope:
        acme, _ = scope.get_or_create_account("Acme", industry="machinery")
        scope.upsert_stakeholder(acme, "Maria Lopez", title="CFO", buying_roles=["economic_buyer"],
                                 attitude="supporter", influence=40, personal_notes="plays golf on Sundays")
        scope.upsert_stakeholder(acme, "Tom Reed", title="CTO", attitude="opponent")
        scope.update_deal(acme, purchase_stage="technical_screening", budget=1_500_000, competitors=["SAP"])
        scope.add_need(acme, "cut IT ops cost", kind="implicit")
        scope.log_interaction(acme, "Lunch with Maria Lopez: she worries about the rollout")
        other, _ = scope.get_or_create_account("Globex")
        scope.upsert_stakeholder(other, "Ann Wu", title="IT manager")


def count(store, model) -> int:  # noqa: ANN001
    with store._session_factory() as s:  # noqa: SLF001 - counting every team's rows
        return s.execute(select(func.count()).select_from(model)).scalar_one()


async def test_export_gives_every_fact_as_text_and_json(use_store):
    seed(use_store)
    d, events = await run(ActionExportAccount(), make_tracker("export everything on Acme", "export_account",
                                                              [entity("account", "Acme")]))
    text = texts(d)[0]
    assert text.splitlines()[0] == "Everything I hold about Acme:"
    for fact in ("machinery", "technical screening", "SAP", "Maria Lopez", "CFO", "plays golf on Sundays",
                 "Tom Reed", "cut IT ops cost", "she worries about the rollout"):
        assert fact in text, fact
    assert "Ann Wu" not in text  # another account
    exported = [m["custom"] for m in d.messages if m.get("custom")][0]
    assert exported["type"] == "account_export"
    assert {p["name"] for p in exported["data"]["stakeholders"]} == {"Maria Lopez", "Tom Reed"}
    assert exported["data"]["opportunity"]["budget"] == 1_500_000


async def test_export_in_chinese_and_never_another_teams_account(use_store):
    seed(use_store, team="solo:alice")
    d, _ = await run(ActionExportAccount(), make_tracker("导出Acme的全部数据", "export_account",
                                                         [entity("account", "Acme")], sender="bob"))
    assert "Maria" not in "\n".join(texts(d))
    assert not [m for m in d.messages if m.get("custom")]
    d, _ = await run(ActionExportAccount(), make_tracker("导出Acme的全部数据", "export_account",
                                                         [entity("account", "Acme")], sender="alice"))
    assert texts(d)[0].startswith("关于Acme，我保存的全部信息：")


async def test_deleting_an_account_asks_first_and_deletes_everything_on_yes(use_store):
    seed(use_store)
    d, events = await run(ActionDeleteData(), make_tracker("delete the Acme account", "delete_data",
                                                           [entity("account", "Acme")]))
    assert texts(d)[0].startswith("Delete Acme and everything recorded about it (2 people, 1 needs, 1 meetings)?")
    assert [b["payload"] for b in d.messages[0]["buttons"]] == ["/affirm", "/deny"]
    offer = slot_events(events)["pending_offer"]
    assert offer.startswith("delete:account:")
    assert count(use_store, Account) == 2  # nothing deleted yet
    d, events = await run(ActionAffirmIdle(), make_tracker("yes", "affirm", slots={"pending_offer": offer,
                                                                                   "current_account": "Acme"}))
    assert texts(d) == ["Done — the account is deleted with everything recorded about it, its charts, and its name "
                        "and its people's names in our conversation history."]
    assert slot_events(events)["pending_offer"] is None and slot_events(events)["current_account"] is None
    assert count(use_store, Account) == 1
    assert count(use_store, Stakeholder) == 1 and count(use_store, Need) == 0 and count(use_store, Interaction) == 0


async def test_no_keeps_the_data(use_store):
    seed(use_store)
    _, events = await run(ActionDeleteData(), make_tracker("删除Acme这个客户", "delete_data",
                                                           [entity("account", "Acme")]))
    offer = slot_events(events)["pending_offer"]
    d, events = await run(ActionDenyIdle(), make_tracker("不要", "deny", slots={"pending_offer": offer}))
    assert texts(d) == ["好的，没有删除任何内容。"]
    assert slot_events(events)["pending_offer"] is None
    assert count(use_store, Account) == 2


async def test_deleting_a_person_removes_them_and_their_name_from_meeting_notes(use_store):
    seed(use_store)
    _, events = await run(ActionDeleteData(), make_tracker("delete all personal data of Maria Lopez", "delete_data",
                                                           [entity("person", "Maria Lopez")]))
    offer = slot_events(events)["pending_offer"]
    assert offer.startswith("delete:person:")
    d, _ = await run(ActionAffirmIdle(), make_tracker("yes", "affirm", slots={"pending_offer": offer}))
    assert texts(d)[0].startswith("Done — that person is deleted")
    assert "Maria" not in "".join(texts(d))  # saved after the erasure: the reply must not name her again
    with use_store.team("solo:rep-1") as scope:
        acme = scope.find_account("Acme")
        assert [p.name for p in acme.stakeholders] == ["Tom Reed"]
        assert acme.interactions[0].summary == "Lunch with […]: she worries about the rollout"


async def test_deleting_personal_notes_keeps_the_person(use_store):
    seed(use_store)
    _, events = await run(ActionDeleteData(), make_tracker("remove Maria Lopez's personal notes", "delete_data",
                                                           [entity("person", "Maria Lopez")]))
    offer = slot_events(events)["pending_offer"]
    assert offer.startswith("delete:notes:")
    await run(ActionAffirmIdle(), make_tracker("yes", "affirm", slots={"pending_offer": offer}))
    with use_store.team("solo:rep-1") as scope:
        maria = scope.find_stakeholders("Maria Lopez")[0]
        assert maria.personal_notes is None and maria.title == "CFO"


async def test_a_deletion_offer_cannot_reach_another_team(use_store):
    seed(use_store, team="solo:alice")
    with use_store.team("solo:alice") as scope:
        acme_id = scope.find_account("Acme").id
    # bob forges alice's offer id in his own slot: the id is looked up inside bob's team only
    d, _ = await run(ActionAffirmIdle(), make_tracker("yes", "affirm", sender="bob",
                                                      slots={"pending_offer": f"delete:account:{acme_id}"}))
    assert texts(d) == ["That record no longer exists — nothing to delete."]
    assert count(use_store, Account) == 2
