"""Canonical values of the NLU contract and their surface forms.

Forms live in `data/lexicon/values.yml`; labels for display in
`bot/content/labels.yml`. `find_values` is the one matcher used by the NLU.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

import yaml

from bot import REPO_DIR
from bot.language import to_simplified

VALUES_FILE = REPO_DIR / "data" / "lexicon" / "values.yml"
# jieba user dictionary: sales terms to keep whole, one "word tag" per line (no frequency,
# so jieba keeps its own counts; the file format has no comments).
USER_DICT_FILE = REPO_DIR / "data" / "lexicon" / "jieba_userdict.txt"

_NEGATION_ZH = ("不是", "并非", "并不是", "不算", "没有", "不再是")
_NEGATION_EN = re.compile(r"\b(not|isn't|is not|no longer|never|wasn't|aren't|doesn't|don't)\s+(a\s+|an\s+|the\s+|really\s+|"
                          r"tech\s+|in\s+)?$",
                          re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")
# "我看不懂英文" / "my Chinese isn't good" / "can't read simplified" name a language the rep does NOT want
_NOT_CHOSEN = re.compile(r"(看不懂|读不懂|不懂|不会|\bmy\s+|can'?t\s+read\s+|cannot\s+read\s+|don'?t\s+read\s+)$",
                         re.IGNORECASE)


@dataclass(frozen=True)
class ValueMatch:
    """A canonical value found in text."""

    entity: str
    value: str
    start: int
    end: int
    text: str


@lru_cache(maxsize=1)
def _load() -> Tuple[Dict[str, Dict[str, Dict[str, List[str]]]], Dict[str, List[str]]]:
    data = yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8"))
    restrictions = data.pop("_only_for_intents", {}) or {}
    data.pop("_list_items", None)
    return data, restrictions


@lru_cache(maxsize=1)
def _list_items() -> Dict[str, Dict[str, List[str]]]:
    return yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8")).get("_list_items") or {}


#: what may follow a bare label for it to be a list item ("technical, supporter", "financial + econ buyer",
#: "technical 角色", "user." at the end), not the start of a phrase ("financial services", "technical issues")
_ITEM_END = r"(?=\s*(?:[,;.+/)&]|$)|\s+(?:role|buyer|and|person|guy|lady)\b|\s*[\u3400-\u9fff])"


def canonical_values(entity: str) -> List[str]:
    """The canonical values of an entity type, e.g. buying_role → [economic_buyer, …]."""
    return list(_load()[0].get(entity, {}))


def entity_types() -> List[str]:
    """Entity types with canonical values."""
    return list(_load()[0])


def allowed_for_intent(entity: str, intent: Optional[str]) -> bool:
    """Whether an entity type may be extracted for a message with this intent."""
    restricted = _load()[1].get(entity)
    return restricted is None or intent is None or intent in restricted


@lru_cache(maxsize=1)
def _patterns() -> List[Tuple[str, str, str, re.Pattern]]:
    out = []
    for entity, values in _load()[0].items():
        for value, forms in values.items():
            for _lang, words in (forms or {}).items():
                for word in words or []:
                    word = to_simplified(str(word)).lower()
                    if _CJK.search(word):
                        pattern = re.compile(re.escape(word))
                    else:
                        pattern = re.compile(r"(?<![a-z0-9])" + re.escape(word).replace(r"\ ", r"[\s\-]+")
                                             + r"(?![a-z0-9])")
                    out.append((entity, value, word, pattern))
    for entity, values in _list_items().items():
        for value, words in values.items():
            for word in words or []:
                word = str(word).lower()
                pattern = re.compile(r"(?<![a-z0-9\-])" + re.escape(word).replace(r"\ ", r"[\s\-]+") + _ITEM_END)
                out.append((entity, value, word, pattern))
    # longest forms first so they win overlaps
    out.sort(key=lambda item: -len(item[2]))
    return out


def chinese_forms() -> List[str]:
    """All Chinese surface forms (for the jieba user dictionary)."""
    return sorted({w for _, _, w, _ in _patterns() if _CJK.search(w)})


#: a stage word asked about or used as a topic is not the deal's stage: "he asked about implementation time",
#: "问了实施周期", "the evaluation criteria", "决策流程"
_STAGE_ASKED = re.compile(r"(?:asked|ask|asking|question|questions|wanted to know|wants to know|curious|worried|concerned)"
                          r"\s+(?:about|on|how|when|whether|if|what)?\b[^.,;!?]{0,30}$|(?:问了|问到|问过|询问|关心|打听|担心|问)"
                          r"[^，。,.;；！？!?]{0,12}$", re.IGNORECASE)
_STAGE_TOPIC = re.compile(r"^\s*(?:time|times|timeline|timeframe|schedule|plan|plans|cost|costs|partner|team|criteria|"
                          r"process|period|effort|risk|risks|support|fee|fees|details|of|for)\b|^(?:周期|时间|计划|费用|成本|"
                          r"团队|标准|流程|方案|细节|难度|风险|工期|进度|要求|怎么|多久|需要多长)", re.IGNORECASE)


#: a stage still to come is not the deal's stage: "decision by september", "contract signed by end of June",
#: "tech screening only starts next month", "下个月才进技术评估"
_STAGE_LATER = re.compile(r"^\s*(?:only\s+|will\s+)?(?:starts?|begins?|by|before|until|due|planned|scheduled|"
                          r"expected|next|later)\b|^(?:要到|下个月|明年|之后|以后|之前|前)", re.IGNORECASE)
_STAGE_LATER_BEFORE = re.compile(r"(?:才|还没|尚未|not yet|before|until)\s*[^.,;，。；]{0,6}$", re.IGNORECASE)


def stage_is_topic(text: str, start: int, end: int) -> bool:
    """A purchase-stage word that is a question's topic, part of a noun phrase or still to come, not the deal's stage."""
    return bool(_STAGE_ASKED.search(text[max(0, start - 40):start]) or _STAGE_TOPIC.search(text[end:end + 12])
                or _STAGE_LATER.search(text[end:end + 16]) or _STAGE_LATER_BEFORE.search(text[max(0, start - 10):start]))


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 6):start]
    if any(before.endswith(neg) for neg in _NEGATION_ZH):
        return True
    return bool(_NEGATION_EN.search(text[max(0, start - 20):start]))


def find_values(text: str, intent: Optional[str] = None) -> List[ValueMatch]:
    """Finds canonical values in text (simplified Chinese or English).

    Args:
        text: message text normalised to simplified Chinese.
        intent: the message's intent, used to skip entity types that are only
            meaningful for some intents.

    Returns:
        Non-overlapping matches ordered by position; longer forms win.
    """
    # lower case one character at a time: "İ".lower() is two characters, and the offsets
    # found in `lowered` must be offsets in `text`
    lowered = "".join(low if len(low := c.lower()) == 1 else c for c in text)
    taken: List[Tuple[int, int]] = []
    found: List[ValueMatch] = []
    for entity, value, _word, pattern in _patterns():
        if not allowed_for_intent(entity, intent):
            continue
        for m in pattern.finditer(lowered):
            start, end = m.start(), m.end()
            if any(start < e and s < end for s, e in taken):
                continue
            if _negated(lowered, start):
                continue
            if entity == "purchase_stage" and stage_is_topic(lowered, start, end):
                continue
            if entity == "language" and _NOT_CHOSEN.search(lowered[max(0, start - 12):start]):
                continue
            taken.append((start, end))
            found.append(ValueMatch(entity, value, start, end, text[start:end]))
    found.sort(key=lambda v: v.start)
    return found
