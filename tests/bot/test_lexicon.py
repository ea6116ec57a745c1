import pytest

from bot.lexicon import allowed_for_intent, canonical_values, find_values


@pytest.mark.parametrize(
    "text, entity, value",
    [
        ("他是拍板的人", "buying_role", "economic_buyer"),
        ("Maria is the economic buyer", "buying_role", "economic_buyer"),
        ("王芳是我们的内线", "buying_role", "coach"),
        ("he does the technical screening", "buying_role", "technical"),
        ("刘建国是支持者", "attitude", "supporter"),
        ("she is on the fence", "attitude", "neutral"),
        ("采购总监反对我们", "attitude", "opponent"),
        ("我们已经一起吃过饭", "relationship_stage", "engaged"),
        ("he is now an ally", "relationship_stage", "ally"),
        ("项目已经立项", "purchase_stage", "project_set_up"),
        ("现在在技术筛选阶段", "purchase_stage", "technical_screening"),
        ("they are in the evaluation stage", "purchase_stage", "evaluation"),
    ],
)
def test_find_values(text, entity, value):
    found = [(v.entity, v.value) for v in find_values(text)]
    assert (entity, value) in found


@pytest.mark.parametrize("text", ["他不是决策者", "she is not the decision maker", "he isn't a supporter"])
def test_negated_values_are_ignored(text):
    assert find_values(text) == []


def test_longest_form_wins():
    found = find_values("他是最终决策人")
    assert [(v.entity, v.value, v.text) for v in found] == [("buying_role", "economic_buyer", "最终决策人")]


def test_noisy_types_are_restricted_to_their_intents():
    assert not allowed_for_intent("purchase_stage", "objection_risk")
    assert allowed_for_intent("purchase_stage", "record_deal")
    assert allowed_for_intent("attitude", "objection_risk")


def test_every_contract_value_has_forms():
    assert canonical_values("buying_role") == ["economic_buyer", "user", "financial", "technical", "coach"]
    assert canonical_values("attitude") == ["supporter", "neutral", "opponent"]
    assert canonical_values("relationship_stage") == ["acquainted", "engaged", "trusted", "ally"]
    assert canonical_values("purchase_stage") == [
        "need_emerges", "project_set_up", "info_gathering", "technical_screening", "evaluation", "decision",
        "implementation"]
    assert set(canonical_values("method")) == {
        "spin", "star", "bant", "iceberg", "power_map", "sales_path", "relationship_stages", "purchase_process",
        "negotiation"}
    assert canonical_values("language") == ["en", "zh-Hans", "zh-Hant"]


@pytest.mark.parametrize("prefix", ["İ ", "İİİ İstanbul Ltd: ", "ẞ ß ﬁ "])
def test_spans_stay_on_the_text_after_characters_whose_lower_case_is_longer(prefix):
    # "İ".lower() is two characters; offsets found in the lower-cased text must fit the text
    text = f"{prefix}Maria is a supporter and the economic buyer"
    found = [(v.entity, v.value, v.text, text[v.start:v.end]) for v in find_values(text)]
    assert found == [("attitude", "supporter", "supporter", "supporter"),
                     ("buying_role", "economic_buyer", "economic buyer", "economic buyer")]
