"""Chinese person and company names, found by their shape.

A CRF trained on a few thousand examples misses many unseen Chinese names
(熊丽娟 → 熊丽, 恒通水泥 → nothing). Chinese names have a regular shape: a
surname from a short list plus one or two given-name characters; a company is
a two-character brand (often a place) plus an industry word (科技, 水泥, 医疗…).
These rules find such spans when the surrounding characters say a name ends or
starts there, and jieba's dictionary vetoes ordinary words (方案, 周期, 定制家具).
Used by `SalesEntityExtractor` to add or complete spans the CRF missed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂"
    "章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解"
    "牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎"
    "甄丛仲虞敖巩明佘池乐匡揭植耿洪赖萧傅"
)
DOUBLE_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "司徒", "夏侯", "公孙")
# Forms of address after a surname that make a person reference: 王总, 刘工, 陈经理
ADDRESS = ("经理", "主任", "老师", "先生", "女士", "小姐", "部长", "厂长", "总监", "副总", "协理", "课长", "科长", "处长",
           "特助", "财务长", "资讯长", "信息长", "执行长", "营运长", "技术长", "总", "工", "董", "姐", "哥")
# Industry words that end a company name
COMPANY_SUFFIXES = (
    "科技", "电子", "精密", "机械", "电缆", "水泥", "家居", "纸业", "轮胎", "传媒", "软件", "能源", "医疗", "汽配", "乳业",
    "制药", "药业", "物流", "集团", "股份", "银行", "保险", "航运", "化工", "钢铁", "钢构", "纺织", "食品", "环保",
    "建设", "电气", "材料", "重工", "半导体", "汽车", "新能源", "光电", "通信", "网络", "信息", "咨询", "装备", "仪器",
    "医药", "地产", "证券", "电器", "家电", "机电", "实业", "控股", "智能", "制造", "精工", "模具", "塑胶", "玻璃",
    "陶瓷", "服饰", "酒店", "饮料", "啤酒", "乳品", "生物", "医材", "器械", "船舶", "航空", "铝业", "铜业", "矿业",
    "电力", "水务", "燃气", "零售", "超市", "百货", "电商", "数据", "云", "建材", "包装", "印刷", "照明", "电池",
    "锂电", "储能", "光伏", "风电", "工业", "仪表", "自动化", "机器人", "轴承", "五金", "家具", "卫浴", "涂料", "新材",
)
_PERSON_BEFORE = set("和跟与同见访约联系找问给让请了把对向被由叫是上的")
#: a title right before a name ("总工程师孟凡军", "副总经理常宏伟", "信息总监姚敏"): the name starts there
_TITLE_ENDINGS = ("经理", "总监", "工程师", "总工", "主任", "部长", "副总", "处长", "科长", "课长", "厂长", "协理", "特助",
                  "董事长", "总裁", "主管", "秘书", "助理", "专员", "负责人", "院长", "校长", "行长", "局长", "店长", "组长",
                  "老板", "董事", "经理人", "采购", "财务", "老总")
_PERSON_AFTER = set("是说的在对已目前这今明昨也都很态影认为表示明确觉得负责管还刚才要会跟和与，,。.：:；;、！!？? （(")
_COMPANY_BEFORE = set("见访去给和跟与对把在为是户了到从向帮被让由")
_BAD_PREFIX_TAGS = {"v", "a", "d", "m", "p", "c", "u", "r", "t", "f", "q", "b", "vn", "ad", "an", "y", "e", "o", "s"}
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class NameSpan:
    entity: str  # person | account | title (bot.nlu.titles)
    start: int
    end: int
    text: str


@lru_cache(maxsize=1)
def _jieba() -> tuple:
    """Word frequencies and part-of-speech tags from jieba's own dictionary file.

    Read from the file rather than from jieba's live tables, which the sales user
    dictionary changes.
    """
    from pathlib import Path

    import jieba

    freq: dict = {}
    tags: dict = {}
    path = Path(jieba.__file__).parent / "dict.txt"
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                freq[parts[0]] = int(parts[1])
                if len(parts) >= 3:
                    tags[parts[0]] = parts[2]
    return freq, tags


# Everyday words that jieba's dictionary tags as names (谢谢 is "nr"): never a person,
# also not as the start of a longer candidate (谢谢你, 谢谢啦).
_NOT_NAMES = frozenset({"谢谢", "多谢", "感谢", "常常", "高高", "张张", "明明", "白白", "平平", "安安"})


def _common_word(word: str, allowed_tags: set) -> bool:
    """A frequent dictionary word whose tag is not one of `allowed_tags`."""
    freq, tags = _jieba()
    return freq.get(word, 0) >= 50 and tags.get(word) not in allowed_tags


def _ordinary_word(word: str) -> bool:
    """A frequent noun or verb (仓储, 采购, 科技), which a given name is not (建国, 海涛, 宏伟 are)."""
    freq, tags = _jieba()
    return freq.get(word, 0) >= 50 and tags.get(word) in {"n", "v", "vn", "j", "l", "i", "vd", "t"}


def find_person_names(text: str) -> List[NameSpan]:
    """Chinese person names by shape: surname + 1–2 characters, or surname + form of address."""
    out: List[NameSpan] = []
    n = len(text)
    i = 0
    while i < n:
        start = i
        if text[i:i + 2] in DOUBLE_SURNAMES:
            sur_len = 2
        elif text[i] in SURNAMES:
            sur_len = 1
        else:
            i += 1
            continue
        before = text[start - 1] if start > 0 else ""
        if before and _HAN.match(before) and before not in _PERSON_BEFORE and not text[:start].endswith(_TITLE_ENDINGS):
            i += 1
            continue
        found = None
        for given in (2, 1):
            end = start + sur_len + given
            if end > n or not all(_HAN.match(c) for c in text[start + sur_len:end]):
                continue
            after = text[end] if end < n else ""
            candidate = text[start:end]
            if after and after not in _PERSON_AFTER and not after.isspace() and not text[end:].startswith(_TITLE_ENDINGS):
                continue  # "何丽娟经理": a title right after the name ends it too
            if any(c in "的了是在和说与对这那们也都就还很又不没被把给为我你他她它" for c in candidate[sur_len:]):
                continue
            if _common_word(candidate, {"nr", "nrfg", "nrt"}) or candidate[:2] in _NOT_NAMES:
                continue
            if given == 2 and _ordinary_word(candidate[:2]):
                continue  # 项目负责人: a word (项目), not 项 + 目负
            tag = _jieba()[1].get(candidate)
            if given == 2 and _ordinary_word(candidate[sur_len:]) and tag not in ("nr", "nrfg"):
                continue  # 管仓储, 管采购: "manages …", not a person called 管
            if given == 1 and tag == "n":
                continue  # 时程 ("schedule"), 马力: a dictionary noun, however rare, is no surname + given name
            found = NameSpan("person", start, end, candidate)
            break
        if found is None:
            for form in ADDRESS:
                end = start + sur_len + len(form)
                if text[start + sur_len:end] == form:
                    # 王总 / 刘工, but not 总结 / 工作 / 董事 glued to the surname
                    if end < n and _common_word(form + text[end], set()):
                        continue
                    found = NameSpan("person", start, end, text[start:end])
                    break
        if found:
            out.append(found)
            i = found.end
        else:
            i += 1
    return out


def find_company_names(text: str) -> List[NameSpan]:
    """Chinese company names by shape: a two-character brand + one or two industry words."""
    out: List[NameSpan] = []
    suffixes = sorted(COMPANY_SUFFIXES, key=len, reverse=True)
    for m in re.finditer("|".join(suffixes), text):
        s_start, s_end = m.start(), m.end()
        # a second industry word right after ("精密机械")
        nxt = re.match("|".join(suffixes), text[s_end:])
        if nxt:
            s_end += nxt.end()
        start = s_start - 2
        if start < 0 or not all(_HAN.match(c) for c in text[start:s_start]):
            continue
        prefix = text[start:s_start]
        before = text[start - 1] if start > 0 else ""
        if before and _HAN.match(before) and before not in _COMPANY_BEFORE:
            continue
        _freq, tags = _jieba()
        if tags.get(prefix) in _BAD_PREFIX_TAGS and _freq.get(prefix, 0) >= 100:
            continue
        if any(c in "的了是在和说与对这那们也都就还很又我你他她它" for c in prefix):
            continue
        candidate = text[start:s_end]
        if _common_word(candidate, {"nt", "nz", "ns"}):
            continue
        if out and start < out[-1].end:
            continue
        out.append(NameSpan("account", start, s_end, candidate))
    return out


def join_english_names(text: str, entities: List[dict]) -> List[dict]:
    """"Grace 陈晓雯", "IT 的 Jason 江晨": an English name right before a Chinese person's name is part of it.

    It is never a competitor, an account or a second person: the two become one person.
    """
    people = [e for e in entities if e.get("entity") == "person" and isinstance(e.get("start"), int)]
    out: List[dict] = []
    joined: dict = {}
    for e in entities:
        if e.get("entity") in ("competitor", "account", "person") and isinstance(e.get("end"), int) \
                and re.fullmatch(r"[A-Z][a-z]{1,12}", str(e.get("value") or "")):
            after = next((p for p in people if p["start"] == e["end"] + 1 and text[e["end"]] == " "), None)
            if after is not None and _HAN.match(text[after["start"]]):
                joined[id(after)] = e["start"]
                continue
        out.append(e)
    return [{**e, "start": joined[id(e)], "value": text[joined[id(e)]:e["end"]]} if id(e) in joined else e
            for e in out]


_COMMAND_TAIL = re.compile(r"(?:\s+(?:summary|overview|status|update|info|details|power\s*map|map|deal|risks?|profile|"
                           r"report|pls|please)|概况|概況|总结|總結|情况|情況|权力地图|權力地圖)\s*$", re.IGNORECASE)


_COMPETITOR_LEAD = re.compile(r"^(?:竞争对手|对手|竞品)(?:是|有|为)?|^competitors?\s*(?:is|are|:)?\s*", re.IGNORECASE)


def cut_command_words(text: str, entities: List[dict]) -> List[dict]:
    """"Acme summary" tagged as one account: the account is Acme; "summary" is what the rep asks for."""
    out = []
    for e in entities:
        value = str(e.get("value") or "")
        lead = _COMPETITOR_LEAD.match(value)
        if e.get("entity") == "account" and lead and lead.end() < len(value) and isinstance(e.get("start"), int):
            # "对手是华中数控" read as one account: the competitor 华中数控
            e = {**e, "entity": "competitor", "value": value[lead.end():], "start": e["start"] + lead.end()}
            out.append(e)
            continue
        m = _COMMAND_TAIL.search(value)
        if e.get("entity") == "account" and m and m.start() > 0 and isinstance(e.get("end"), int):
            cut = len(value) - m.start()
            e = {**e, "value": value[:m.start()], "end": e["end"] - cut}
        out.append(e)
    return out
