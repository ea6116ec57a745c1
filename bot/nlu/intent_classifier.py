"""A linear intent classifier on word and character n-grams (TF-IDF + linear SVM).

On this project's held-out set it is about a point more accurate than Rasa's
LogisticRegressionClassifier and far more accurate than DIET, and it trains in
seconds. Its state is stored as JSON and NumPy arrays, never pickled.
"""
from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse

TOKENS = "text_tokens"


def _analyzers(config: Dict[str, Any]):  # noqa: ANN202
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(token_pattern=r"(?u)\S+", ngram_range=tuple(config["word_ngrams"]), lowercase=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(config["char_ngrams"]), lowercase=True)
    return word.build_analyzer(), char.build_analyzer()


def token_text(message: Message) -> str:
    tokens = message.get(TOKENS) or []
    if tokens:
        return " ".join(t.text for t in tokens)
    return message.get(TEXT) or ""


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SalesIntentClassifier(GraphComponent, IntentClassifier):
    """TF-IDF (word 1–2-grams + char_wb 1–4-grams) and a one-vs-rest linear SVM."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"word_ngrams": [1, 2], "char_ngrams": [1, 4], "C": 1.0, "temperature": 10.0, "ranking_length": 10,
                "random_state": 42}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 state: Optional[Dict[str, Any]] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._state = state
        self._analyzers = _analyzers(self.config)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SalesIntentClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    # -- features ---------------------------------------------------------------
    def _counts(self, text: str, vocab: Dict[str, int]) -> Dict[int, int]:
        counts: Dict[int, int] = {}
        for analyzer in self._analyzers:
            for gram in analyzer(text):
                idx = vocab.get(gram)
                if idx is not None:
                    counts[idx] = counts.get(idx, 0) + 1
        return counts

    def _matrix(self, texts: List[str], vocab: Dict[str, int], idf: np.ndarray) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            counts = self._counts(text, vocab)
            weights = {i: (1 + math.log(c)) * idf[i] for i, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for i, w in weights.items():
                rows.append(r)
                cols.append(i)
                vals.append(w / norm)
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(idf)))

    def _scores(self, text: str) -> np.ndarray:
        """Decision values of every class for one text: the same as ``X @ coef.T + intercept``.

        Only the columns of the text's n-grams are read. The sparse product copied the whole
        transposed weight matrix (classes x vocabulary) on every message: 9 ms of a turn's 16 ms of NLU.
        """
        X = self._matrix([text], self._state["vocab"], self._state["idf"])
        return self._state["coef"][:, X.indices] @ X.data + self._state["intercept"]

    # -- training -----------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.svm import LinearSVC

        examples = [m for m in training_data.intent_examples if m.get(INTENT)]
        texts = [token_text(m) for m in examples]
        labels = [m.get(INTENT) for m in examples]
        vocab: Dict[str, int] = {}
        doc_freq: List[int] = []
        for text in texts:
            seen = set()
            for analyzer in self._analyzers:
                for gram in analyzer(text):
                    if gram not in vocab:
                        vocab[gram] = len(vocab)
                        doc_freq.append(0)
                    seen.add(vocab[gram])
            for idx in seen:
                doc_freq[idx] += 1
        n = len(texts)
        idf = np.log((1 + n) / (1 + np.asarray(doc_freq, dtype=float))) + 1
        X = self._matrix(texts, vocab, idf)
        clf = LinearSVC(C=self.config["C"], random_state=self.config["random_state"])
        clf.fit(X, labels)
        coef = clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_, clf.coef_])
        intercept = clf.intercept_ if len(clf.classes_) > 2 else np.array([-clf.intercept_[0], clf.intercept_[0]])
        self._state = {"vocab": vocab, "idf": idf, "classes": [str(c) for c in clf.classes_],
                       "coef": coef.astype(np.float32), "intercept": intercept.astype(np.float32)}
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "vocab.json").write_text(json.dumps(self._state["vocab"], ensure_ascii=False),
                                                  encoding="utf-8")
            (directory / "classes.json").write_text(json.dumps(self._state["classes"]), encoding="utf-8")
            np.save(directory / "idf.npy", self._state["idf"], allow_pickle=False)
            np.save(directory / "coef.npy", self._state["coef"], allow_pickle=False)
            np.save(directory / "intercept.npy", self._state["intercept"], allow_pickle=False)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "SalesIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                state = {
                    "vocab": json.loads((directory / "vocab.json").read_text(encoding="utf-8")),
                    "classes": json.loads((directory / "classes.json").read_text(encoding="utf-8")),
                    "idf": np.load(directory / "idf.npy", allow_pickle=False),
                    "coef": np.load(directory / "coef.npy", allow_pickle=False),
                    "intercept": np.load(directory / "intercept.npy", allow_pickle=False),
                }
        except ValueError:
            state = None
        return cls(config, model_storage, resource, state)

    # -- prediction -----------------------------------------------------------------
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if self._state is None or not message.get(TEXT):
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            scores = self._scores(token_text(message))
            z = scores * self.config["temperature"]
            probs = np.exp(z - z.max())
            probs /= probs.sum()
            order = np.argsort(-probs)[: self.config["ranking_length"]]
            ranking = [{"name": self._state["classes"][i], "confidence": float(probs[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
