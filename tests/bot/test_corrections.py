"""Corrections change the fact they name, on the person or account meant (bot.corrections)."""
from __future__ import annotations

from bot.corrections import correct, denied


def ent(entity, value, text, surface=None):
    surface = surface or str(value)
    start = text.index(surface)
    return {"entity": entity, "value": value, "start": start, "end": start + len(surface)}


def seed(store):
    with store.team("t", "rep") as scope:
        acme, _ = scope.get_or_create_account("Acme Corp")
        scope.upsert_stakeholder(acme, "Maria Lopez", title="CIO", attitude="neutral", buying_roles=["economic_buyer"])
        scope.upsert_stakeholder(acme, "Tom Becker", title="IT manager")
        scope.update_deal(acme, budget=1_500_000, competitors=["SAP"])
        hs, _ = scope.get_or_create_account("宏盛机械")
        scope.upsert_stakeholder(hs, "陈静", title="部长")
        scope.upsert_stakeholder(hs, "王海涛", title="总经理", attitude="supporter")


def test_a_named_person_gets_the_new_title_and_the_denied_one_is_dropped(store):
    seed(store)
    text = "no, actually Maria is the CFO not the CIO"
    ents = [ent("person", "Maria", text), ent("title", "CFO", text), ent("title", "CIO", text)]
    with store.team("t", "rep") as scope:
        done = correct(scope, text, ents, None, None)
        assert done.person.name == "Maria Lopez" and done.person_changes == {"title": "CFO"}
        assert len(scope.find_account("Acme Corp").stakeholders) == 2  # no "Maria (CFO)" beside Maria Lopez


def test_chinese_correction_with_a_denied_old_title(store):
    seed(store)
    text = "不对，陈静不是部长，是生产副总"
    ents = [ent("person", "陈静", text), ent("title", "部长", text), ent("title", "生产副总", text)]
    with store.team("t", "rep") as scope:
        done = correct(scope, text, ents, scope.find_account("宏盛机械"), None)
        assert done.person_changes == {"title": "生产副总"}
        assert scope.find_stakeholders("陈静")[0].title == "生产副总"


def test_a_pronoun_correction_changes_the_person_in_context(store):
    seed(store)
    text = "其实他是反对者"
    with store.team("t", "rep") as scope:
        wang = scope.find_stakeholders("王海涛")[0]
        done = correct(scope, text, [ent("attitude", "opponent", text, "反对者")], wang.account, wang)
        assert done.person_changes == {"attitude": "opponent"}


def test_a_role_correction_replaces_the_roles(store):
    seed(store)
    text = "correction: Maria is the technical evaluator, not the decision maker"
    ents = [ent("person", "Maria", text), ent("buying_role", "technical", text, "technical evaluator"),
            ent("buying_role", "economic_buyer", text, "decision maker")]
    with store.team("t", "rep") as scope:
        correct(scope, text, ents, None, None)
        assert scope.find_stakeholders("Maria Lopez")[0].roles == ["technical"]


def test_deal_corrections_overwrite_and_replace_the_denied_competitor(store):
    seed(store)
    text = "correction, the competitor is Oracle not SAP and the budget is 1.2M"
    ents = [ent("competitor", "Oracle", text), ent("competitor", "SAP", text),
            ent("amount", 1_200_000, text, "1.2M")]
    with store.team("t", "rep") as scope:
        acme = scope.find_account("Acme Corp")
        correct(scope, text, ents, acme, None)
        opp = acme.opportunities[-1]
        assert (opp.budget, opp.competitor_list) == (1_200_000, ["Oracle"])


def test_a_typo_fix_renames_the_person(store):
    seed(store)
    text = "sorry typo, Tom Baker not Tom Becker"
    ents = [ent("person", "Tom Baker", text), ent("person", "Tom Becker", text)]
    with store.team("t", "rep") as scope:
        done = correct(scope, text, ents, None, None)
        assert done.renamed_from == "Tom Becker"
        assert [p.name for p in scope.find_account("Acme Corp").stakeholders] == ["Maria Lopez", "Tom Baker"]


def test_nothing_is_guessed_without_a_target(store):
    seed(store)
    text = "no, she's a supporter"
    with store.team("t", "rep") as scope:
        done = correct(scope, text, [ent("attitude", "supporter", text)], None, None)
        assert done.unclear == "no_target" and not done.changed


def test_denied_values_are_recognised():
    text = "she's the CFO not the CIO, 不是部长"
    assert denied(text, ent("title", "CIO", text)) and not denied(text, ent("title", "CFO", text))
    assert denied(text, ent("title", "部长", text))


def test_a_statement_after_who_is_this_about_is_its_own_not_the_held_facts_name():
    from bot.capture import answers_who

    held = [{"entity": "buying_role", "value": "technical"}, {"entity": "influence", "value": 40}]
    # "Megan Doyle, COO" names the person the held facts are about
    assert answers_who(held, [{"entity": "person", "value": "Megan Doyle"}, {"entity": "title", "value": "COO"}])
    # "总经理 曾冠宇 拍板的 影响力五成": another person's own role and influence
    assert not answers_who(held, [{"entity": "person", "value": "曾冠宇"}, {"entity": "buying_role",
                                                                         "value": "economic_buyer"},
                                  {"entity": "influence", "value": 50}])
    # "时程的话 他们希望明年Q2完成验收": about the deal, not a name
    assert not answers_who(held, [{"entity": "timeline", "value": "明年Q2"}])


def test_a_denied_value_is_never_the_one_saved():
    text = "常总影响力不是六成 是五成"
    assert denied(text, ent("influence", 60, text, "六成"))
    assert not denied(text, ent("influence", 50, text, "五成"))


def test_a_title_that_is_a_known_persons_surname_and_address_is_that_person(store):
    """"更正 预算不是800万 是1200万 洪經理刚打电话来": 洪經理 is 洪志偉, never his new title."""
    from actions.context import reconcile_entities

    with store.team("t", "rep") as scope:
        acct, _ = scope.get_or_create_account("正陽鋼鐵")
        scope.upsert_stakeholder(acct, "洪志偉", title="設備部經理")
        text = "洪經理剛打電話來說他們有追加"
        out = reconcile_entities(scope, [ent("title", "洪經理", text)], text)
        assert [(e["entity"], e["value"]) for e in out if e["entity"] in ("title", "person")] == [("person", "洪經理")]
        # a real title stays a title
        text = "他是設備部經理"
        out = reconcile_entities(scope, [ent("title", "設備部經理", text)], text)
        assert [e["entity"] for e in out] == ["title"]


def test_a_need_is_kept_in_the_customers_words_without_who_said_it(store):
    from bot.capture import capture

    text = "Met Sandra yesterday, she said the core system keeps failing at month end"
    with store.team("t", "rep") as scope:
        done = capture(scope, "Acme Corp", [{"entity": "need", "value": text, "start": 0, "end": len(text)},
                                            {"entity": "need", "value": "对手是卫宁", "start": 0, "end": 5}])
        assert [n.description for n, _ in done.needs] == ["the core system keeps failing at month end"]


def test_a_fact_after_a_short_form_of_someone_named_earlier_in_the_message_is_theirs():
    from bot.capture import split_by_person

    t = ("Ian was there with his boss, MD Caroline Ashworth, and their reliability engineer Pete Sowerby. "
         "Ian holds a third of the say, Caroline makes the call.")
    ents = [{"entity": "person", "value": "Caroline Ashworth", "start": t.index("Caroline Ashworth"),
             "end": t.index("Caroline Ashworth") + 17},
            {"entity": "person", "value": "Pete Sowerby", "start": t.index("Pete"), "end": t.index("Pete") + 12},
            {"entity": "buying_role", "value": "economic_buyer", "start": t.index("makes the call"),
             "end": t.index("makes the call") + 14}]
    groups = split_by_person(ents, t)
    assert [e["value"] for e in groups["Caroline Ashworth"]] == ["economic_buyer"] and groups["Pete Sowerby"] == []


def test_a_trade_after_a_dictionary_word_is_no_person():
    from bot.resolve import plausible_person_name

    assert not plausible_person_name("石化業") and not plausible_person_name("金融部")
    assert plausible_person_name("秦国华") and plausible_person_name("欧阳明") and plausible_person_name("王建业")


def test_a_role_said_with_too_is_added_not_swapped(store):
    seed(store)
    text = "actually Maria is our coach too"
    ents = [ent("person", "Maria", text), ent("buying_role", "coach", text)]
    with store.team("t", "rep") as scope:
        done = correct(scope, text, ents, None, None)
        assert sorted(done.person.roles) == ["coach", "economic_buyer"]


def test_a_correction_naming_someone_unknown_never_lands_on_the_person_talked_about(store):
    seed(store)
    text = "no, actually tom is the IT director, not manager"
    ents = [ent("person", "tom", text), ent("title", "IT director", text)]
    with store.team("t", "rep") as scope:
        maria = scope.find_stakeholders("Maria Lopez")[0]
        scope.delete_stakeholder(scope.find_stakeholders("Tom Becker")[0])
        done = correct(scope, text, ents, None, maria)
        assert not done.changed and maria.title == "CIO"
