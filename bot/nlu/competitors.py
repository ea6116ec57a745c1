"""Competitors named after a cue.

"competitor is LabWare", "up against Manhattan and Blue Yonder", "对手是南瑞", "鼎新也有来报价", "比金蝶贵".

The CRF misses many competitor names or reads them as an account ("对手是南瑞" → a question about an
account called 南瑞). A name in a competitor cue is a competitor: the extractor adds it, and a person or
account span over the same words gives way (bot/nlu/components.py). Works on simplified text.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

_EN_LIST = re.compile(r"\b(?:competitors?|competition|competing vendors?|rivals?)\s*(?:is|are|:|=|-|include|includes|"
                      r"right now is|right now are|here is|here are)?\s+(?P<list>[^.;!?\n]+)", re.IGNORECASE)
_EN_AGAINST = re.compile(r"\b(?:up against|competing (?:with|against)|losing to|lost to)\s+(?P<list>[^.;!?\n]+)", re.IGNORECASE)
_EN_ONE = re.compile(r"\b(?:vs\.?|versus|compared (?:to|with)|instead of|"
                     r"(?:cheaper|expensive|pricier|overpriced|better|worse|faster|slower)\s+than)\s+"
                     r"(?P<name>[A-Z][\w&.\-]*(?:\s+[A-Z][\w&.\-]*){0,3})")
_EN_MOVE = re.compile(r"\b(?P<name>[A-Z][\w&\-]*(?:\s+[A-Z][\w&\-]*){0,2})\s+(?:has\s+|also\s+|already\s+)?(?:offered|quoted|"
                      r"undercut|pitched|is pitching|is also bidding|came in|demoed|is offering)\b")
_ZH_LIST = re.compile(r"(?:竞争对手|对手|竞品|竞争者|competitor)s?\s*(?:目前|现在|主要)?\s*(?:是|有|为|：|:|还有|包括|除了)\s*"
                      r"(?P<list>[^。；;，,！？!?\n]+)", re.IGNORECASE)
_ZH_MOVE = re.compile(r"(?P<name>[\u4e00-\u9fff]{2,8}|[A-Za-z][A-Za-z0-9&\-]{1,40})\s{0,3}(?:也有|也|已经|已經|之前)?\s{0,3}"
                      r"(?:来报价|来報價|报了价|来简报|去做过|来做过|在推|给了[^，。]{0,6}折|打了?[一二三四五六七八九]折)")
#: words that end the stretch before a Chinese name ("透露长亮", "找鼎新", "跟用友")
_ZH_BEFORE = re.compile(r".*(?:透露|找了|找|跟|和|与|请了|请|说|也有|还有|有|是|听说|知道)")
_ZH_THAN = re.compile(r"比\s*(?P<name>[\u4e00-\u9fff]{2,4}|[A-Za-z][\w&\-]+)\s*(?:贵|便宜|低|高|差|强)")
#: (no leading \s*: tried at every space of a long run, it made splitting quadratic; parts are stripped)
_SPLIT = re.compile(r"(?:,|，|、|/|&|\+|\band\b|\bor\b|和|跟|与|及|还有|以及|或)\s*", re.IGNORECASE)
_LEAD = re.compile(r"^(?:(?:also|and|the|some|a|an|local|player|vendor|called|named|mainly|mostly|probably|maybe)\s+)+|"
                   r"^(?:有|是|为|包括|还有)\s*", re.IGNORECASE)
_NOT_NAMES = {"us", "we", "them", "they", "it", "nobody", "none", "no one", "last year", "before", "what", "our",
              "我们", "他们", "谁", "没有", "暂无", "不知道", "它们", "客户", "对方", "对手", "竞争对手", "上礼拜", "上周",
              "昨天", "今天", "前天", "之前", "已经", "去年", "他们也", "厂商", "别家", "别人"}
_TRAIL = re.compile(r"(?:\s*\(.*|\s+(?:is|are|was|were|has|have|who|which|that|but|so|for|right now|lol|too)\b.*|"
                    r"\s+[\u4e00-\u9fff].*|(?:等|吧|啦|呢|了|的|也在|在推|目前|还在).*)$", re.IGNORECASE)


def _capitalised(name: str) -> str:
    """The leading run of words that start with a capital or a digit ("Blue Yonder on price" → "Blue Yonder")."""
    words = []
    for word in name.split():
        if not (word[:1].isupper() or word[:1].isdigit()):
            break
        words.append(word)
    return " ".join(words)


def _items(text: str, start: int, chunk: str, caps_only: bool = False) -> List[Tuple[int, int, str]]:
    out = []
    pos = start
    for part in _SPLIT.split(chunk):
        idx = text.find(part, pos) if part else -1
        name = _TRAIL.sub("", _LEAD.sub("", part.strip())).strip(" .:：-\"'“”「」")
        if caps_only and name.isascii():
            name = _capitalised(name)
        if idx >= 0:
            pos = idx + len(part)
        if not name or name.lower() in _NOT_NAMES or len(name) > 40 or len(name.split()) > 4:
            continue
        at = text.find(name, idx if idx >= 0 else start)
        if at >= 0:
            out.append((at, at + len(name), name))
    return out


def competitor_spans(text: str) -> List[Tuple[int, int, str]]:
    """(start, end, name) of each competitor named after a cue."""
    found: List[Tuple[int, int, str]] = []
    for pattern in (_ZH_LIST, _EN_LIST):
        for m in pattern.finditer(text):
            chunk = re.sub(r"\([^)]*\)|（[^）]*）", lambda p: " " * len(p.group()), m.group("list"))
            found += _items(text, m.start("list"), chunk)
    for m in _EN_AGAINST.finditer(text):
        found += _items(text, m.start("list"), m.group("list"), caps_only=True)
    for pattern in (_EN_ONE, _EN_MOVE, _ZH_MOVE, _ZH_THAN):
        for m in pattern.finditer(text):
            name, start = m.group("name").strip(), m.start("name")
            if pattern is _ZH_MOVE and re.match(r"[\u4e00-\u9fff]", name):
                name = re.sub(r"(?:也有|也|已经|已經|之前|都|还|還)+$", "", name)
                cut = _ZH_BEFORE.match(name)
                if cut:
                    start, name = start + cut.end(), name[cut.end():]
                start, name = start + max(0, len(name) - 4), name[-4:]
            if len(name) >= 2 and name.lower() not in _NOT_NAMES:
                found.append((start, start + len(name), name))
    out: List[Tuple[int, int, str]] = []
    for span in sorted(found):
        if not any(span[0] < e and s < span[1] for s, e, _ in out):
            out.append(span)
    return out


def with_competitors(text: str, entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """`entities` plus the competitors named after a cue; a person or account span over one gives way."""
    spans = competitor_spans(text)
    if not spans:
        return entities

    def overlaps(e: Dict[str, Any], s: int, t: int) -> bool:
        return isinstance(e.get("start"), int) and e["start"] < t and s < e["end"]

    kept = [e for e in entities if not (e.get("entity") in ("person", "account") and
                                         any(overlaps(e, s, t) for s, t, _ in spans))]
    for s, t, name in spans:
        if not any(e.get("entity") == "competitor" and overlaps(e, s, t) for e in kept):
            kept.append({"entity": "competitor", "value": name, "start": s, "end": t, "confidence_entity": 0.8,
                         "extractor": "SalesNameExtractor"})
    return kept
