"""The spaCy pipeline every message goes through.

A blank spaCy pipeline whose tokenizer is jieba without its HMM guesser (loaded
with the sales user dictionary and the lexicon's Chinese forms): unknown words
such as names split into short pieces instead of being glued to the next
character, so entity spans ("刘总" in "刘总说…") fall on token boundaries — with
the HMM on, 64 of 1,222 annotated Chinese spans did not. Plus two rule-based
components:
`sales_quantities` (money, percentages, durations → `doc.spans["quantities"]`)
and `sales_lexicon` (canonical values → `doc.spans["values"]`). It works on
English too: jieba splits Latin text on spaces and punctuation. Nothing is
downloaded; the pipeline is built in code from the repository's data.
"""
from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

from bot import lexicon, numbers

logger = logging.getLogger(__name__)
_lock = threading.Lock()


def _register_components() -> None:
    from spacy.language import Language
    from spacy.tokens import Span

    if not Span.has_extension("value"):
        Span.set_extension("value", default=None)
    if not Span.has_extension("entity"):
        Span.set_extension("entity", default=None)

    if "sales_quantities" not in Language.factories:
        @Language.component("sales_quantities")
        def sales_quantities(doc: Any) -> Any:
            spans = []
            for q in numbers.find_quantities(doc.text):
                span = doc.char_span(q.start, q.end, label=q.kind, alignment_mode="expand")
                if span is None:
                    continue
                span._.value = q.value
                spans.append(span)
            doc.spans["quantities"] = spans
            return doc

    if "sales_lexicon" not in Language.factories:
        @Language.component("sales_lexicon")
        def sales_lexicon(doc: Any) -> Any:
            spans = []
            for v in lexicon.find_values(doc.text):
                span = doc.char_span(v.start, v.end, label=v.entity, alignment_mode="expand")
                if span is None:
                    continue
                span._.value = v.value
                span._.entity = v.entity
                spans.append(span)
            doc.spans["values"] = spans
            return doc


class JiebaTokenizer:
    """spaCy tokenizer: jieba's dictionary segmentation, HMM off, spaces kept as whitespace."""

    def __init__(self, vocab: Any) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Any:
        import jieba
        from spacy.tokens import Doc
        from spacy.util import get_words_and_spaces

        words = [w for w in jieba.cut(text, HMM=False) if w]
        words, spaces = get_words_and_spaces(words, text)
        return Doc(self.vocab, words=words, spaces=spaces)


def load_user_dictionary() -> None:
    """Teaches jieba the sales vocabulary (idempotent)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.load_userdict(str(lexicon.USER_DICT_FILE))
    for word in lexicon.chinese_forms():
        if " " not in word:
            jieba.add_word(word)  # jieba picks a frequency that keeps the word whole


@lru_cache(maxsize=1)
def get_nlp() -> Any:
    """Builds the pipeline once per process."""
    with _lock:
        import spacy

        _register_components()
        load_user_dictionary()
        nlp = spacy.blank("xx")
        nlp.tokenizer = JiebaTokenizer(nlp.vocab)
        nlp.add_pipe("sales_quantities")
        nlp.add_pipe("sales_lexicon")
        return nlp


def analyse(text: str) -> Any:
    """Runs the pipeline on (simplified) text and returns the spaCy Doc."""
    return get_nlp()(text)
