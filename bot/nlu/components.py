"""Custom Rasa NLU components.

Order in `config.yml`:

1. `ScriptNormalizer` — detects language/script, keeps the original text and
   replaces the text with its simplified form (same length), so one model
   serves simplified, traditional and English input.
2. `SalesTokenizer` — tokens from the spaCy pipeline (jieba + sales dictionary),
   without whitespace tokens.
3. … Rasa's featurizers and DIET (intent + text-span entities) …
4. `SalesEntityExtractor` — rule-based canonical values (roles, attitudes,
   stages, methods, …) and quantities (influence, amount, percentage,
   duration) from the spaCy doc; replaces DIET's guesses for those types.
5. `ScriptRestorer` — puts the original text back and re-reads text-span entity
   values from it, so `/model/parse` returns what the user wrote.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import lexicon
from bot.language import detect, to_simplified
from bot.nlu.competitors import with_competitors
from bot.nlu.industry import with_industry
from bot.nlu.intent_rules import NEXT, revised_intent
from bot.nlu.names import cut_command_words, join_english_names
from bot.nlu.pipeline import analyse
from bot.nlu.titles import with_chinese_titles, with_titles
from bot.notes import states_a_need

ORIGINAL_TEXT = "original_text"
LANGUAGE = "language"
DOC = "sales_doc"

# Entity types read from the rule-based pipeline, never from DIET.
QUANTITY_ENTITIES = ("influence", "amount", "percentage", "duration")
SPAN_ENTITIES = ("account", "person", "title", "industry", "competitor", "need", "timeline", "scenario")
# Words a learned span sometimes swallows at its edges ("At Globex", "the CFO", "华东精密的").
_LEADING = re.compile(r"^(?:(?:at|in|on|for|with|from|to|of|by|and|the|a|an|our|their|my|his|her|met|meet|meeting|"
                      r"visited|visit|saw|called|call|lunch|dinner|coffee|talked|spoke|chatted|emailed|had)\s+|"
                      r"[跟和与在给对把]\s*|(?:拜访了|见了|约了|见到|拜访)\s*)+",
                      re.IGNORECASE)
_TRAILING = re.compile(r"(?:\s*[,，。.;；:：!！?？'\"“”]|\s+(?:and|to|at|in))+$|(?<=[\u4e00-\u9fff])的$", re.IGNORECASE)
_PERSON_INTENTS = ("record_stakeholder", "log_meeting", "add_account", "prepare_meeting", "ask_relationship_advice")
_INFLUENCE_WORDS = ("影响", "权重", "话语权", "说了算", "分量", "influence", "weight", "sway", "say in", "clout")


def _doc_for(message: Message) -> Any:
    doc = message.get(DOC)
    text = message.get(TEXT) or ""
    if doc is None or doc.text != text:
        doc = analyse(text)
        message.set(DOC, doc)
    return doc


class _Stateless(GraphComponent):
    """A component without training or persisted state."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False
)
class ScriptNormalizer(_Stateless):
    """Detects language and script and normalises traditional to simplified."""

    def _normalise(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or message.get(ORIGINAL_TEXT) is not None:
            return
        message.set(ORIGINAL_TEXT, text)
        message.set(LANGUAGE, detect(text), add_to_output=True)
        message.set(TEXT, to_simplified(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalise(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalise(message)
        return messages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False
)
class SalesTokenizer(Tokenizer):
    """Tokenizes with the spaCy pipeline (jieba for Chinese, spaces for Latin)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy", "jieba"]

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        if attribute == TEXT:
            doc = _doc_for(message)
        else:
            doc = analyse(message.get(attribute) or "")
        tokens = [
            Token(t.text, t.idx, lemma=t.text.lower())
            for t in doc
            if not t.is_space and t.text.strip()
        ]
        return self._apply_token_pattern(tokens)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class SalesEntityExtractor(_Stateless, EntityExtractorMixin):
    """Canonical values and quantities from the rule-based spaCy components."""

    @property
    def name(self) -> Text:  # used by EntityExtractorMixin.add_extractor_name
        return "SalesEntityExtractor"

    def process(self, messages: List[Message]) -> List[Message]:
        rule_types = set(lexicon.entity_types()) | set(QUANTITY_ENTITIES)
        for message in messages:
            if message.get(TEXT) is None:
                continue
            intent = (message.get(INTENT) or {}).get("name")
            kept = [e for e in message.get(ENTITIES, []) if e.get("entity") not in rule_types]
            kept = complete_names(message.get(TEXT) or "", kept)
            kept = split_person_at_account(message.get(TEXT) or "", kept)
            kept = extend_numbered_accounts(message.get(TEXT) or "", kept)
            if intent == "add_account":
                kept = _whole_new_name(message.get(TEXT) or "", kept)
                kept = with_industry(message.get(TEXT) or "", kept)
                if not states_a_need(message.get(TEXT) or ""):  # "mid-size regional bank ~40 branches"
                    kept = [e for e in kept if e.get("entity") != "need"]
            found = extract_rule_entities(message, intent)
            dropped = [e for e in kept if _inside_a_value(e, found)]
            kept = [e for e in kept if e not in dropped]
            if dropped:  # a learned span across a name and a value ("郑文豪 决策"): the name by its shape
                kept = complete_names(message.get(TEXT) or "", kept)
            kept = join_english_names(message.get(TEXT) or "", with_competitors(message.get(TEXT) or "", kept))
            kept = cut_command_words(message.get(TEXT) or "", kept)
            kept = with_titles(message.get(TEXT) or "", kept, NAME_EXTRACTOR)
            kept = with_chinese_titles(message.get(TEXT) or "", kept, NAME_EXTRACTOR)
            message.set(ENTITIES, kept + found, add_to_output=True)
            revised = revised_intent(intent, message.get(TEXT) or "", kept + found)
            if revised == NEXT:
                _next_intent(message, intent)
            elif revised:
                _set_intent(message, revised)
        return messages


_VALUE_TYPES = {"attitude", "buying_role", "relationship_stage", "purchase_stage"}


def _inside_a_value(entity: Dict[str, Any], found: List[Dict[str, Any]]) -> bool:
    """A name span that overlaps a lexicon value ("管价格" is a buying role, not a person called 管)."""
    if entity.get("entity") not in ("person", "account") or not isinstance(entity.get("start"), int):
        return False
    return any(f.get("entity") in _VALUE_TYPES and isinstance(f.get("start"), int)
               and f["start"] < entity["end"] and entity["start"] < f["end"] for f in found)


def _next_intent(message: Message, dropped: str) -> None:
    """Replaces `dropped` by the next intent of the ranking."""
    ranking = [r for r in (message.get("intent_ranking") or []) if r["name"] != dropped]
    if ranking:
        _set_intent(message, ranking[0]["name"])


def _set_intent(message: Message, name: str) -> None:
    ranking = list(message.get("intent_ranking") or [])
    top = next((r for r in ranking if r["name"] == name), {"name": name, "confidence": 0.0})
    confidence = max(top["confidence"], (message.get(INTENT) or {}).get("confidence") or 0.0)
    message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
    ranking = [{"name": name, "confidence": confidence}] + [r for r in ranking if r["name"] != name]
    message.set("intent_ranking", ranking, add_to_output=True)


NAME_EXTRACTOR = "SalesNameExtractor"


#: the name first, then the cue: "柏昇电路板 PCB 新客户 在桃园观音", "济康医院 新建一个客户 三甲医院",
#: "Cobalt Ridge Mining - new account pls. mining": what follows the cue is the trade, not the name
_NAME_BEFORE_CUE = [
    re.compile(r"^\s*(?P<name>[^\s，,。.;；:：（(、]{2,20}?)[\s，,]+(?:[A-Za-z0-9/&+\-]{2,12}[\s，,]+)?(?:是|是个|是一个)?"
               r"(?:新建|新增|添加|建立)?(?:一个|个)?(?:新的?)?客户(?=[，,。.;；:：（(、\s]|$)"),
    re.compile(r"^\s*(?P<name>[A-Z][\w&.'\-]*(?:\s+[A-Z][\w&.'\-]*){0,4})\s*[-–—:,]\s*(?:a\s+)?(?:new|add)\s+"
               r"(?:account|acct|customer|client|prospect)\b", re.IGNORECASE),
]
_COMMAND_WORD = re.compile(r"add|new|create|please|pls|帮我|帮忙|我|我们|有|有个|又有|再加|加|新建|新增|添加", re.IGNORECASE)
_NEW_ACCOUNT = [
    re.compile(r"(?:add|create|new|register|open|set up|start)\b[^,，:：]*?\b(?:account|acct|customer|client|prospect)"
               r"(?:\s+(?:record|profile|entry))?(?:\s+(?:called|named|for))?[\s:：\-—]+(?P<name>[A-Za-z0-9][\w&.'\- ]{0,60}?)"
               r"\s*(?=[,，;；。(（?？!]|$|\s[-—]\s|\s(?:in|which|that|from|they|a|an)\s)", re.IGNORECASE),
    re.compile(r"(?:新建|添加|新增|加一个|加个|建立|登记|创建|录入|加上|建个|(?i:add|new)\s*)(?:一个|个)?(?:新的?)?客户[:：\s]*"
               r"(?P<name>[^\s，,。.;；:：（(、]{2,20}?)(?=[，,。.;；:：（(、\s]|这个客户|$|，)"),
    re.compile(r"^新客户[:：\s]*(?P<name>[^\s，,。.;；:：（(、]{2,20}?)(?=[，,。.;；:：（(、\s]|$)"),
    re.compile(r"(?:添加|新增|加上|加一下|录入)(?P<name>[^\s，,。.;；:：（(、]{2,20}?)(?:这个|这家|为)?(?:新)?客户"),
    re.compile(r"\badd\s+(?P<name>[A-Z][\w&.'\-]*(?:\s+[A-Z][\w&.'\-]*){0,4})"),
]


def _said_name(text: str) -> Tuple[Optional[Dict[str, Any]], bool]:
    """The account the rep named with a new-account cue, and whether the name came before the cue."""
    for pattern in _NAME_BEFORE_CUE + _NEW_ACCOUNT:
        m = pattern.search(text)
        if m and m.group("name").strip() and not _COMMAND_WORD.fullmatch(m.group("name").strip()):
            start, end = trim_span(text, m.start("name"), m.end("name"))
            if end > start:
                return ({"entity": "account", "value": text[start:end], "start": start, "end": end,
                         "confidence_entity": 0.8, "extractor": NAME_EXTRACTOR}, pattern in _NAME_BEFORE_CUE)
    return None, False


def new_account_name(text: str) -> List[Dict[str, Any]]:
    """The name in "Add account Globex, logistics" / "新建客户华东精密" / "济康医院 新建一个客户 …"."""
    said, _before_cue = _said_name(text)
    return [said] if said else []


_NAME_NUMBER = re.compile(r"\s+\d{1,4}(?=\s*$|\s*[,，.;；:：!?！？)）]|\s+(?:is|are|has|have|in|and|was|wants?)\b)")


def _whole_new_name(text: str, kept: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The name the rep gave with "新建客户"/"add account", whole: the CRF's 蓝海港务 of 蓝海港务集团 is cut short.

    A name written before the cue ("昱成車電 新客戶 汽車電子") is the account whatever the CRF tagged
    after it (there, the trade).
    """
    said, before_cue = _said_name(text)
    tagged = [e for e in kept if e.get("entity") == "account"]
    if said is None:
        return kept
    inside = [e for e in tagged if isinstance(e.get("start"), int) and said["start"] <= e["start"]
              and e["end"] <= said["end"]]
    if not tagged or before_cue or len(inside) == len(tagged):
        return [e for e in kept if e not in tagged] + [said]
    return kept


def extend_numbered_accounts(text: str, learned: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """'Replica Co 7' cut to 'Replica Co' by the CRF gets its number back.

    Only a bare number of up to four digits that ends the clause ("… at Replica Co 8",
    "Replica Co 7, logistics", "Plant 3 is …"), never a quantity ("Acme 500k", "Acme 40%").
    """
    out = []
    for e in learned:
        end = e.get("end")
        if e.get("entity") == "account" and isinstance(end, int) and isinstance(e.get("start"), int):
            m = _NAME_NUMBER.match(text, end)
            if m and str(e.get("value") or "") == text[e["start"]:end]:
                e = {**e, "end": m.end(), "value": text[e["start"]:m.end()]}
        out.append(e)
    return out


def split_person_at_account(text: str, learned: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """'Bill at Initech' read as one span becomes person 'Bill' and account 'Initech'."""
    out: List[Dict[str, Any]] = []
    for e in learned:
        value = str(e.get("value") or "")
        m = re.search(r"\s+at\s+", value)
        if e.get("entity") in ("account", "person") and m and isinstance(e.get("start"), int):
            left_end = e["start"] + m.start()
            right_start = e["start"] + m.end()
            out.append({**e, "entity": "person", "value": text[e["start"]:left_end], "end": left_end})
            out.append({**e, "entity": "account", "value": text[right_start:e["end"]], "start": right_start})
        else:
            out.append(e)
    return out


def complete_names(text: str, learned: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Adds Chinese person/company names the CRF missed and completes cut-off ones (熊丽 → 熊丽娟)."""
    from bot.nlu.names import find_company_names, find_person_names

    if not re.search(r"[\u4e00-\u9fff]", text):
        return learned
    out = [dict(e) for e in learned]
    for span in find_person_names(text) + find_company_names(text):
        overlapping = [e for e in out if isinstance(e.get("start"), int) and e["start"] < span.end
                       and span.start < e["end"]]
        if not overlapping:
            out.append({"entity": span.entity, "value": span.text, "start": span.start, "end": span.end,
                        "confidence_entity": 0.9, "extractor": NAME_EXTRACTOR})
            continue
        titles = [e for e in overlapping if e.get("entity") == "title" and span.start <= e["start"] and e["end"] <= span.end]
        if span.entity == "person" and titles and len(overlapping) == len(titles) + 1:
            overlapping = [e for e in overlapping if e not in titles]  # 吳 + 財務長: the person 吳財務長
            out = [e for e in out if e not in titles]
        if len(overlapping) == 1:
            e = overlapping[0]
            inside = span.start <= e["start"] and e["end"] <= span.end and (e["end"] - e["start"]) < len(span.text)
            if inside and e.get("entity") == span.entity:
                e.update(start=span.start, end=span.end, value=span.text)
    out.sort(key=lambda e: e.get("start") if isinstance(e.get("start"), int) else -1)
    return out


def extract_rule_entities(message: Message, intent: Optional[str]) -> List[Dict[str, Any]]:
    """Rule-based entities of a message whose text is already simplified."""
    doc = _doc_for(message)
    text = doc.text
    out: List[Dict[str, Any]] = []
    for span in doc.spans.get("values", []):
        entity = span.label_
        if not lexicon.allowed_for_intent(entity, intent):
            continue
        out.append(_entity(entity, span._.value, span.start_char, span.end_char))
    for span in doc.spans.get("quantities", []):
        kind = span.label_
        if kind == "money":
            entity = "amount"
        elif kind == "duration":
            entity = "duration"
        else:
            entity = "influence" if _is_influence(text, span.start_char, span.end_char, intent) else "percentage"
        if not lexicon.allowed_for_intent(entity, intent):
            continue
        out.append(_entity(entity, span._.value, span.start_char, span.end_char))
    out.sort(key=lambda e: e["start"])
    return out


def _is_influence(text: str, start: int, end: int, intent: Optional[str]) -> bool:
    """A percentage is an influence weight when said about a person, else a plain percentage."""
    if intent == "inform":  # a bare "六成"/"40%" answers the only percentage the bot asks for
        return True
    if intent not in _PERSON_INTENTS:
        return False
    window = text[max(0, start - 12):min(len(text), end + 12)].lower()
    return intent == "record_stakeholder" or any(word in window for word in _INFLUENCE_WORDS)


def _entity(entity: str, value: Any, start: int, end: int) -> Dict[str, Any]:
    return {
        "entity": entity,
        "value": value,
        "start": start,
        "end": end,
        "confidence_entity": 1.0,
        "extractor": "SalesEntityExtractor",
    }


def trim_span(text: str, start: int, end: int) -> tuple:
    """Shrinks a span past leading/trailing function words and punctuation."""
    span = text[start:end]
    lead = _LEADING.match(span)
    if lead and lead.end() < len(span):
        start += lead.end()
    span = text[start:end]
    trail = _TRAILING.search(span)
    if trail and trail.start() > 0:
        end = start + trail.start()
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class ScriptRestorer(_Stateless):
    """Restores the user's original text and original-script entity spans."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            original = message.get(ORIGINAL_TEXT)
            if original is None:
                continue
            entities = []
            for entity in message.get(ENTITIES, []):
                entity = dict(entity)
                if entity.get("entity") in SPAN_ENTITIES and entity.get("extractor") != "SalesEntityExtractor":
                    start, end = entity.get("start"), entity.get("end")
                    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(original):
                        start, end = trim_span(original, start, end)
                        if start >= end:
                            continue
                        entity.update(start=start, end=end, value=original[start:end])
                entities.append(entity)
            message.set(ENTITIES, entities, add_to_output=True)
            message.set(TEXT, original)
            message.set(DOC, None)
        return messages
