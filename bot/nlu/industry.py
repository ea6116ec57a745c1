"""The industry a rep gives when adding an account: "Acme, logistics", "新建客户鼎泰精工 做汽车零部件的".

The CRF tags few industries (reps name them freely), so for `add_account` the words that follow the
account's name are read by their shape: a Chinese "做…的" phrase or the next clause of a few
characters ("银行", "零售業", "输配电设备制造"), an English clause after a comma or dash up to a
place, a size or a stop word ("logistics / 3PL out of manchester" → "logistics / 3PL").
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

_ZH_DOING = re.compile(r"(?:做|搞|从事|是做|專做|专做)\s*(?P<ind>[\u4e00-\u9fffA-Za-z0-9/+&\- ]{2,16}?)\s*的")
_ZH_CLAUSE = re.compile(r"^[\s,，、:：\-—(（]*(?P<ind>[\u4e00-\u9fffA-Za-z/&+]{2,12}?)"
                        r"(?:行业|行業|产业|產業|公司|单位|單位|企业|企業)?(?=$|[\s,，。.;；、)）]|[0-9])")
_ZH_NOT = re.compile(r"新建|新增|客户|客戶|项目|項目|预算|預算|阶段|階段|评估|評估|已经|已經|大概|区域|區域|全[国國台臺]|"
                     r"廠在|厂在|在|总部|總部|老客户|老客戶|是我们|是我們|的")
_EN_CLAUSE = re.compile(r"^\s*(?:[,;:(]|\s[-—–]\s|\.\s+)\s*(?:(?:they(?:'re| are)|theyre|they do|they make|it's|its|a|an|in)\s+)?"
                        r"(?P<ind>[A-Za-z][A-Za-z&/+\- ]{1,40}?)"
                        r"(?=\s*(?:$|[,.;)(~0-9]|\s(?:out|based|in|with|hq|headquartered|near|around|from|who|that|"
                        r"which|and\s+(?:they|we|it)|they|we|[-—–])\b))", re.IGNORECASE)
_EN_NOT = {"new", "account", "add", "it", "customer", "client", "prospect", "add it", "new account"}


_SKIP = re.compile(r"^(?:新建|新增|新的|新|客户|客戶|新客户|新客戶|account|new|add|一个|一個|股份有限公司|有限公司|"
                   r"股份有限公司|公司)+$", re.IGNORECASE)


def industry_after(text: str, end: int) -> Optional[str]:
    """The industry the rep wrote after the account name ending at `end`, or None."""
    rest = text[end:end + 80]
    chinese = bool(re.search(r"[\u4e00-\u9fff]", text))
    if chinese:
        for piece in [p for p in re.split(r"[\s,，、:：。;；]+", rest) if p][:3]:
            if _SKIP.match(piece):
                continue
            m = _ZH_DOING.match(piece)
            if m:
                return m.group("ind").strip()
            m = _ZH_CLAUSE.match(piece)
            if m and not _ZH_NOT.search(m.group("ind")):
                return m.group("ind").strip()
            return None
        return None
    for clause in [c for c in re.split(r"\s*(?:[,;(]|\.\s|\s[-—–]\s)\s*", rest) if c.strip()][:3]:
        m = _EN_CLAUSE.match(", " + clause)
        if not m:
            return None
        value = m.group("ind").strip(" -/+&")
        if value.lower() in _EN_NOT or re.search(r"\b(?:new account|add it|account|acount)\b", value, re.I):
            continue
        return value
    return None


def with_industry(text: str, entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """`entities` plus an industry entity read from the text after the account name, when none was tagged."""
    if any(e.get("entity") == "industry" for e in entities):
        return entities
    account = next((e for e in entities if e.get("entity") == "account" and isinstance(e.get("end"), int)), None)
    if account is None:
        return entities
    _name_before(text, account)
    value = str(account.get("value") or "")
    if re.match(r"^[\u4e00-\u9fff]{2,}\s+[\u4e00-\u9fff]", value.strip()):  # "通衢供应链 物流": name, industry
        cut = value.strip().index(" ")
        account.update(value=value.strip()[:cut], end=account["start"] + cut)
    value = industry_after(text, account["end"])
    if not value:
        return entities
    start = text.find(value, account["end"])
    return entities + [{"entity": "industry", "value": value, "start": start, "end": start + len(value),
                        "confidence_entity": 0.7, "extractor": "SalesNameExtractor"}]


_ADD_ZH = re.compile(r"^\s*(?:新建|新增|添加|加)\s*(?:一个|一個)?\s*(?:新)?(?:客户|客戶)\s*[:：]?\s*(?P<name>[^\s,，、:：]{2,30})")
_ADD_EN = re.compile(r"^\s*(?:add|new|create)\s+(?:a\s+)?(?:new\s+)?account\s*:?\s*(?P<name>[^,;\n]{1,80}?)\s*(?:[,;]|\s[-—–]\s)",
                     re.IGNORECASE)


def _name_before(text: str, account: Dict[str, Any]) -> None:
    """"新建客户鑫诚人寿 保险" tagged account=保险: the name is what follows 新建客户, the tagged word its industry."""
    match = _ADD_ZH.match(text) or _ADD_EN.match(text)
    if not match or account.get("start", -1) < match.end("name"):
        return
    account.update(value=match.group("name"), start=match.start("name"), end=match.end("name"))
