"""The CRF entity extractor is loaded from its fitted model files, not re-trained."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
from rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer import LexicalSyntacticFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.crf import PersistedCRFEntityExtractor

NAMES = ["Maria Lopez", "Tom Reed", "Ann Wu", "Bill Lumbergh", "Peter Gibbons", "Sarah Klein"]
ACCOUNTS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]


def example(person: str, account: str) -> Message:
    text = f"{person} is the CFO at {account}"
    start = text.index(account)
    return Message(data={"text": text, "intent": "record_stakeholder", "entities": [
        {"entity": "person", "value": person, "start": 0, "end": len(person)},
        {"entity": "account", "value": account, "start": start, "end": start + len(account)}]})


def prepare(storage, context):  # noqa: ANN001, ANN201
    """Tokenised and featurised training data, and a function doing the same to new messages."""
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = LexicalSyntacticFeaturizer.create(LexicalSyntacticFeaturizer.get_default_config(), storage,
                                                   Resource("lex"), context)
    data = TrainingData([example(p, a) for p in NAMES for a in ACCOUNTS])
    tokenizer.process_training_data(data)
    featurizer.train(data)
    featurizer.process_training_data(data)

    def prep(messages):  # noqa: ANN001, ANN202
        tokenizer.process(messages)
        featurizer.process(messages)
        return messages

    return data, prep


def test_persisted_crf_loads_without_refitting_and_predicts_the_same(tmp_path, monkeypatch):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    resource = Resource("crf")
    config = {**PersistedCRFEntityExtractor.get_default_config(), "max_iterations": 30}
    data, prep = prepare(storage, context)
    trained = PersistedCRFEntityExtractor.create(config, storage, resource, context)
    trained.train(data)

    def no_refit(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the CRF was fitted again at load time")

    monkeypatch.setattr(CRFEntityExtractor, "train_model", classmethod(no_refit))
    loaded = PersistedCRFEntityExtractor.load(config, storage, resource, context)
    texts = ["Peter Gibbons is the CFO at Hooli", "Sarah Klein is the CFO at Umbrella"]
    expected = [[(e["entity"], e["value"]) for e in m.get("entities", [])]
                for m in trained.process(prep([Message(data={"text": t}) for t in texts]))]
    got = [[(e["entity"], e["value"]) for e in m.get("entities", [])]
           for m in loaded.process(prep([Message(data={"text": t}) for t in texts]))]
    assert got == expected
    assert ("person", "Peter Gibbons") in got[0] and ("account", "Hooli") in got[0]


def test_a_model_without_crf_files_still_loads_the_slow_way(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    resource = Resource("crf")
    config = {**CRFEntityExtractor.get_default_config(), "max_iterations": 10}
    data, _ = prepare(storage, context)
    CRFEntityExtractor.create(config, storage, resource, context).train(data)  # stock: data only
    loaded = PersistedCRFEntityExtractor.load(config, storage, resource, context)
    assert loaded.entity_taggers and set(loaded.entity_taggers) == set(loaded.crf_order)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
