"""Chinese name shapes and the linear intent classifier."""
from __future__ import annotations

import pytest

from bot.nlu.names import find_company_names, find_person_names


@pytest.mark.parametrize("text, names", [
    ("我和熊丽娟目前仅认识而已", ["熊丽娟"]),
    ("视频会议：侯文杰和孟庆丰", ["侯文杰", "孟庆丰"]),
    ("华东精密机械的刘建国是技术总监", ["刘建国"]),
    ("刘总说再降5个点", ["刘总"]),
    ("和王总吃饭", ["王总"]),
    ("王总结了一下", []),
    ("方案是这样的", []),
    ("旺季高峰期产能不够", []),
    ("谢谢", []),  # jieba tags 谢谢 as a name
    ("谢谢你啊", []),
    ("谢建国是CTO", ["谢建国"]),
    # a title right before the name (no space, no 的)
    ("海川的总工程师孟凡军 技术把关", ["孟凡军"]),
    ("晋源的副总经理常宏伟 分管生产", ["常宏伟"]),
    ("嘉禾那边是信息总监姚敏 拍板的人", ["姚敏"]),
    ("采购部经理王海涛说", ["王海涛"]),
    ("总监管理的系统", []),
    # surnames common in Taiwan (the text arrives in simplified form)
    ("设备部经理 洪志伟 技术型", ["洪志伟"]),
    ("洪经理对我们满支持的", ["洪经理"]),
    # a dictionary noun is no surname + given name, however rare
    ("时程的话 他们希望明年Q2完成验收", []),
    ("远航的总经理张建平 拍板的", ["张建平"]),  # 建平 is also a county: the whole is a name in the dictionary
    ("项目负责人是设备部部长高志远", ["高志远"]),  # 项目 is a word, not 项 + 目负
])
def test_person_names_by_shape(text, names):
    assert [s.text for s in find_person_names(text)] == names


@pytest.mark.parametrize("text, names", [
    ("等下要见长江电缆，先帮我过一下", ["长江电缆"]),
    ("帮我新建客户华联精工，主营精密模具", ["华联精工"]),
    ("华东精密机械的刘建国是技术总监", ["华东精密机械"]),
    ("新客户青松家居，做定制家具", ["青松家居"]),
    ("变压器供应商拖了", []),
])
def test_company_names_by_shape(text, names):
    assert [s.text for s in find_company_names(text)] == names


def test_names_complete_a_cut_off_crf_span_and_add_missed_ones():
    from bot.nlu.components import complete_names

    text = "邵明辉是恒通水泥的IT经理"
    learned = [{"entity": "person", "value": "邵明", "start": 0, "end": 2, "extractor": "CRFEntityExtractor"},
               {"entity": "title", "value": "IT经理", "start": 9, "end": 13, "extractor": "CRFEntityExtractor"}]
    out = {(e["entity"], e["value"]) for e in complete_names(text, learned)}
    assert out == {("person", "邵明辉"), ("account", "恒通水泥"), ("title", "IT经理")}


def test_intent_classifier_trains_persists_and_predicts(tmp_path):
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.components import SalesTokenizer
    from bot.nlu.intent_classifier import SalesIntentClassifier

    data = {"greet": ["hello", "hi there", "你好", "早上好"], "list_accounts": ["list my accounts", "show accounts",
                                                                         "我的客户有哪些", "客户列表"],
            "ask_power_map": ["who decides at acme", "power map please", "谁拍板", "看看权力地图"]}
    messages = [Message(data={"text": t, "intent": i}) for i, ts in data.items() for t in ts]
    tokenizer = SalesTokenizer(SalesTokenizer.get_default_config())
    td = TrainingData(messages)
    tokenizer.process_training_data(td)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intents")
    context = ExecutionContext(graph_schema=None, model_id="m")  # type: ignore[arg-type]
    clf = SalesIntentClassifier.create(SalesIntentClassifier.get_default_config(), storage, resource, context)
    clf.train(td)
    loaded = SalesIntentClassifier.load(SalesIntentClassifier.get_default_config(), storage, resource, context)
    probe = [Message(data={"text": t}) for t in ("show my accounts", "谁拍板的", "hello!")]
    tokenizer.process(probe)
    loaded.process(probe)
    assert [m.get("intent")["name"] for m in probe] == ["list_accounts", "ask_power_map", "greet"]
    ranking = probe[0].get("intent_ranking")
    assert abs(sum(r["confidence"] for r in ranking) - 1) < 1e-6 and ranking[0]["confidence"] > 0.5
    # Scores read only the text's columns; they equal the full sparse product (repeated and unknown n-grams too).
    state = loaded._state
    for text in ("show my accounts show my accounts", "谁 拍板 的", "zzz qqq", "hello !", ""):
        X = loaded._matrix([text], state["vocab"], state["idf"])
        full = (X @ state["coef"].T).ravel() + state["intercept"]
        assert loaded._scores(text) == pytest.approx(full, abs=1e-5)
    assert loaded._matrix(["show my accounts"], state["vocab"], state["idf"]).nnz > 0
