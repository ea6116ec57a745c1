"""Fuzzing the NLU side without a server: language, numbers, lexicon, names, tokenizer, Rasa components.

Every function gets hostile text (see tests/fuzz/conftest.py) and must not raise, must keep
its promises about lengths and offsets, and must return sane values.
"""
from __future__ import annotations

import math
import random
import re
import time
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import lexicon
from bot.language import LANGUAGES, detect, name_key, to_script, to_simplified
from bot.nlu.components import (
    QUANTITY_ENTITIES,
    SPAN_ENTITIES,
    SalesEntityExtractor,
    SalesTokenizer,
    ScriptNormalizer,
    ScriptRestorer,
    new_account_name,
    trim_span,
)
from bot.nlu.intent_rules import is_bare_answer
from bot.nlu.names import find_company_names, find_person_names
from bot.numbers import find_quantities, parse_arabic, parse_chinese, parse_english_words, parse_number
from tests.fuzz.conftest import DOTTED_I, ODD_NUMBERS, fuzz_settings, huge_text, texts

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
INTENTS = [None, "record_stakeholder", "record_deal", "record_need", "log_meeting", "add_account", "inform",
           "conflict_budget_cut", "conflict_delivery_delay", "set_language", "ask_methodology", "nlu_fallback"]
QUANTITY_KINDS = {"amount": "money", "percentage": "percent", "influence": "percent", "duration": "duration"}


# --------------------------------------------------------------------------- bot.language


@fuzz_settings(300)
@given(texts())
@example("")
@example("\x00\u202e🧑🏽‍💻")
@example("İ" * 3)
def test_detect_never_raises_and_answers_a_language_or_none(text):
    got = detect(text)
    assert got in LANGUAGES or got is None
    folded = unicodedata.normalize("NFKC", text)
    if not _HAN.search(folded) and not re.search(r"[A-Za-z]", folded):
        assert got is None  # no letters of either language: the caller keeps the language in use


@fuzz_settings(300)
@given(texts())
@example("華東精密的劉建國是技術總監，預算兩百萬")
@example("軟體專案\x00😀")
def test_to_simplified_keeps_the_length_and_touches_only_chinese(text):
    out = to_simplified(text)
    assert isinstance(out, str) and len(out) == len(text)
    for before, after in zip(text, out, strict=True):
        if before != after:
            assert _HAN.match(before) and _HAN.match(after), (before, after)


@fuzz_settings(5)
@given(huge_text())
def test_to_simplified_keeps_the_length_of_huge_text(text):
    assert len(to_simplified(text)) == len(text)


@fuzz_settings(200)
@given(texts())
@example("头发\x00干🧑🏽‍💻")
def test_traditional_output_keeps_every_non_chinese_character(text):
    """s2t (phrase-level, not length-preserving by design) may change Chinese words, nothing else."""
    for lang in LANGUAGES:
        out = to_script(text, lang)
        assert isinstance(out, str)
        assert _HAN.sub("", out) == _HAN.sub("", text)


@fuzz_settings(200)
@given(texts())
def test_name_key_never_raises_and_ignores_script_case_and_spacing(text):
    key = name_key(text)
    assert isinstance(key, str)
    assert name_key(to_simplified(text)) == key
    assert not re.search(r"\s", key)


# --------------------------------------------------------------------------- bot.numbers


@fuzz_settings(300)
@given(st.one_of(texts(4), st.sampled_from(ODD_NUMBERS)))
@example("1e309")
@example("NaN")
@example("三百万万")
@example("٣٤")
def test_number_parsers_never_raise(text):
    for parse in (parse_number, parse_arabic, parse_chinese, parse_english_words):
        value = parse(text)
        assert value is None or isinstance(value, float)


def check_quantities(text: str) -> None:
    found = find_quantities(text)
    previous_end = 0
    for q in found:
        assert 0 <= q.start < q.end <= len(text)
        assert q.text == text[q.start:q.end]
        assert q.start >= previous_end, "quantities overlap or are out of order"
        previous_end = q.end
        assert q.kind in ("money", "percent", "duration")
        assert isinstance(q.value, int | float) and not isinstance(q.value, bool)
        assert math.isfinite(q.value) and q.value >= 0, q


@fuzz_settings(400)
@given(texts())
@example("预算1e309万，-0%，٣٤天，三百万万，1,2,3块，NaN%")
@example("budget is 2,000,000 and 五分之〇 and 0分之1")
def test_quantities_are_spans_of_the_text_with_sane_values(text):
    check_quantities(to_simplified(text))


@fuzz_settings(5)
@given(huge_text())
def test_quantities_in_huge_text(text):
    check_quantities(to_simplified(text))


@fuzz_settings(10)
@given(st.integers(309, 400), st.sampled_from(["预算{}万", "budget {} dollars", "{}%", "{}天", "${}"]))
def test_a_number_too_big_for_a_float_is_not_infinity(digits, frame):
    check_quantities(frame.format("9" * digits))


def test_long_runs_of_digits_are_scanned_in_linear_time():
    started = time.perf_counter()
    find_quantities("1" * 2000)
    find_quantities("一" * 2000)
    # A linear scan of 4,000 characters takes milliseconds; today this takes seconds.
    assert time.perf_counter() - started < 0.5


# --------------------------------------------------------------------------- bot.lexicon and bot.nlu.names


def _forms_of(entity: str, value: str) -> list:
    return [p for e, v, _w, p in lexicon._patterns() if e == entity and v == value]


def check_values(text: str) -> None:
    taken = []
    for v in lexicon.find_values(text):
        assert 0 <= v.start < v.end <= len(text)
        assert v.text == text[v.start:v.end]
        assert v.value in lexicon.canonical_values(v.entity)
        assert any(p.fullmatch(v.text.lower()) for p in _forms_of(v.entity, v.value)), (
            f"{v.entity}={v.value} found at {v.start}:{v.end}, where the text says {v.text!r}")
        assert all(v.end <= s or e <= v.start for s, e in taken)
        taken.append((v.start, v.end))


@fuzz_settings(300)
@given(texts())
@example("the CFO is a supporter, economic buyer, 技术筛选阶段")
@example("İİ İstanbul Ltd: the CFO is a supporter, economic buyer")
def test_lexicon_values_are_found_where_the_text_says_them(text):
    check_values(to_simplified(text))


@fuzz_settings(10)
@given(st.integers(1, 3), st.sampled_from(["{} is a supporter", "İstanbul Ltd: {} economic buyer",
                                           "{} the CTO is against us"]))
def test_lexicon_spans_after_a_dotted_capital_i(count, frame):
    # "İ".lower() is two characters: the lexicon lower-cases one character at a time so its offsets stay right
    text = frame.format(DOTTED_I * count)
    check_values(text)
    assert [(v.value, v.text) for v in lexicon.find_values(text)][-1] in {("supporter", "supporter"),
                                                                          ("economic_buyer", "economic buyer"),
                                                                          ("opponent", "against us")}


@fuzz_settings(300)
@given(texts())
@example("王总和刘建国见了恒通水泥的欧阳娜娜")
def test_chinese_name_spans_are_slices_of_the_text(text):
    text = to_simplified(text)
    for span in find_person_names(text) + find_company_names(text):
        assert 0 <= span.start < span.end <= len(text)
        assert span.text == text[span.start:span.end]
        assert span.entity in ("person", "account")


@fuzz_settings(300)
@given(texts(), st.data())
def test_span_helpers_never_leave_the_text(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    s, e = trim_span(text, start, end)
    assert start <= s <= e <= end
    for found in new_account_name(text):
        assert found["value"] == text[found["start"]:found["end"]] and found["value"].strip()
    assert is_bare_answer(text, [{"entity": "person", "value": text[start:end], "start": start, "end": end}]) in (
        True, False)


# --------------------------------------------------------------------------- the Rasa components in order


def learned_entities(rng: random.Random, simplified: str, tokens: list) -> list:
    """What the CRF may hand over: token-aligned spans of the (simplified) text, any span type."""
    out = []
    for _ in range(rng.randint(0, 4)):
        if not tokens:
            break
        i = rng.randrange(len(tokens))
        j = min(len(tokens), i + rng.randint(1, 4))
        start, end = tokens[i].start, tokens[j - 1].end
        out.append({"entity": rng.choice(SPAN_ENTITIES + ("attitude", "amount")), "start": start, "end": end,
                    "value": simplified[start:end], "confidence_entity": 0.9, "extractor": "CRFEntityExtractor"})
    return out


def run_components(text: str, intent, seed: int) -> Message:
    message = Message(data={TEXT: text})
    ScriptNormalizer({}).process([message])
    simplified = message.get(TEXT)
    assert len(simplified) == len(text)
    assert message.get("original_text") == text
    assert message.get("language") in LANGUAGES or message.get("language") is None
    SalesTokenizer(SalesTokenizer.get_default_config()).process([message])
    tokens = message.get("text_tokens") or []
    last_end = 0
    for token in tokens:
        assert token.text and token.text.strip(), "empty or whitespace token"
        assert simplified[token.start:token.end] == token.text
        assert token.start >= last_end, "tokens overlap or are out of order"
        last_end = token.end
    if intent:
        message.set(INTENT, {"name": intent, "confidence": 0.9})
    message.set(ENTITIES, learned_entities(random.Random(seed), simplified, tokens))
    SalesEntityExtractor({}).process([message])
    ScriptRestorer({}).process([message])
    return message


def check_entities(message: Message, text: str) -> None:
    assert message.get(TEXT) == text  # the user's own text comes back
    simplified = to_simplified(text)
    quantities = find_quantities(simplified)
    for e in message.get(ENTITIES) or []:
        start, end = e.get("start"), e.get("end")
        assert isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text), e
        if e["entity"] in SPAN_ENTITIES and e.get("extractor") != "SalesEntityExtractor":
            # learned and shape-found names: the value is what the user wrote, trimmed
            assert e["value"] == text[start:end], e
            assert e["value"] == e["value"].strip(), e
        elif e.get("extractor") == "SalesEntityExtractor" and e["entity"] in QUANTITY_ENTITIES:
            value = e["value"]
            assert isinstance(value, int | float) and math.isfinite(value) and value >= 0, e
            kind = QUANTITY_KINDS[e["entity"]]
            assert any(q.kind == kind and start <= q.start and q.end <= end for q in quantities), e
        elif e.get("extractor") == "SalesEntityExtractor":
            assert e["value"] in lexicon.canonical_values(e["entity"]), e
            surface = simplified[start:end].lower()
            assert any(p.search(surface) for p in _forms_of(e["entity"], e["value"])), (e, surface)


@fuzz_settings(150)
@given(texts(), st.sampled_from(INTENTS), st.integers(0, 2 ** 16))
@example("華東精密的劉建國是技術總監，影響力六成，是支持者", "record_stakeholder", 1)
@example("Bill at Initech is the CFO, budget 1e309", "record_stakeholder", 7)
@example("", "add_account", 0)
@example("\u3000 \n", None, 0)
@example("新建客户'; DROP TABLE accounts;--，<script>", "add_account", 3)
@example("İİ Maria Lopez at İstanbul Ltd is a supporter, ß ﬁ", "record_stakeholder", 2)
def test_components_keep_spans_on_the_users_text(text, intent, seed):
    check_entities(run_components(text, intent, seed), text)


@fuzz_settings(4)
@given(huge_text(), st.sampled_from(["record_stakeholder", "log_meeting", None]))
def test_components_on_huge_text(text, intent):
    check_entities(run_components(text, intent, 0), text)
