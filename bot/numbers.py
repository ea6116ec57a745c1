"""Quantities in Chinese and English: money, percentages, durations.

Pure functions over (simplified) text. `find_quantities` returns non-overlapping
spans with a normalised value; the spaCy pipeline (`bot.nlu.pipeline`) turns them
into entities. Values follow the NLU contract: money in units ("200万" → 2000000),
percentages as whole numbers ("六成" → 60), durations in days ("两周" → 14).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import List, Optional, Union

Number = Union[int, float]

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4,
              "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9, "半": 0.5}
_CN_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}

_EN_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1,
    "half": 0.5, "a half": 0.5, "half a": 0.5,
}
_EN_SCALES = {"hundred": 100, "thousand": 1000, "k": 1000, "grand": 1000,
              "million": 1_000_000, "m": 1_000_000, "mn": 1_000_000, "mm": 1_000_000, "mil": 1_000_000,
              "billion": 1_000_000_000, "bn": 1_000_000_000, "b": 1_000_000_000}

_CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟半"
# bounded and anchored on both sides: a long run of numerals is scanned once, not backtracked
CN_NUM = rf"(?<![{_CN_NUMERALS}])[{_CN_NUMERALS}]{{1,12}}(?![{_CN_NUMERALS}])"
AR_NUM = r"(?<![\d.])\d{1,15}(?:[,，]\d{3}){0,5}(?:\.\d{1,6})?(?!\d)"
_EN_NUMWORD = (r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
               r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|"
               r"ninety|hundred)")
# a run of number words ("two hundred fifty"), or "a"/"an"/"half a" right before a scale or unit
EN_WORD = rf"(?:{_EN_NUMWORD}(?:[\s\-]+(?:and[\s\-]+)?{_EN_NUMWORD})*|half\s+an?|half|an?)"


def clean_number(value: Number) -> Number:
    """Returns an int when the value is integral (2000000.0 → 2000000; 1.1 × 1e8 → 110000000)."""
    if isinstance(value, float):
        value = round(value, 6)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return round(value, 4)
    return value


def parse_arabic(text: str) -> Optional[float]:
    """Parses '2,000,000' / '1.5' / '２００' (full-width digits are NFKC-normalised)."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text).replace(",", "").replace("，", "").strip()
    try:
        return float(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def parse_chinese(text: str) -> Optional[float]:
    """Parses Chinese numerals: 三百万, 两千五百, 一亿二千万, 十五, 三成半 is not handled here."""
    if not text:
        return None
    if re.fullmatch(r"[零〇一二两三四五六七八九]{2,}", text):  # digit-by-digit: 二零二六
        return float("".join(str(_CN_DIGITS[c]) for c in text))
    total = 0.0
    section = 0.0
    digit: Optional[float] = None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_SMALL_UNITS:
            section += (digit if digit is not None else 1) * _CN_SMALL_UNITS[ch]
            digit = None
        elif ch in _CN_BIG_UNITS:
            unit = _CN_BIG_UNITS[ch]
            section += digit or 0
            if section == 0:
                section = 1
            if unit > 10_000 or total == 0:
                total = (total + section) * unit
            else:
                total += section * unit
            section = 0.0
            digit = None
        else:
            return None
    return total + section + (digit or 0)


def parse_english_words(text: str) -> Optional[float]:
    """Parses 'two million', 'one hundred twenty', 'half a million'."""
    words = re.split(r"[\s\-]+", text.lower().strip())
    words = [w for w in words if w and w != "and"]
    if not words:
        return None
    if words in (["half", "a"], ["half", "an"], ["a", "half"]):
        return 0.5
    total = 0.0
    current = 0.0
    seen = False
    for word in words:
        if word in _EN_SMALL:
            current += _EN_SMALL[word]
            seen = True
        elif word in _EN_SCALES:
            scale = _EN_SCALES[word]
            current = (current or 1) * scale
            if scale >= 1000:
                total += current
                current = 0.0
            seen = True
        else:
            return None
    return total + current if seen else None


def parse_number(text: str) -> Optional[float]:
    """Parses any single number expression: arabic, Chinese or English words."""
    text = text.strip()
    if not text:
        return None
    value = parse_arabic(text)
    if value is not None:
        return value
    m = re.fullmatch(rf"({AR_NUM})\s*({CN_NUM})", text)
    if m:  # 2.5万, 1亿2千万 is handled by parse_chinese below
        head = parse_arabic(m.group(1))
        tail = parse_chinese(m.group(2))
        if head is not None and tail is not None and m.group(2) in ("万", "亿", "千", "百", "十"):
            return head * tail
    value = parse_chinese(text)
    if value is not None:
        return value
    return parse_english_words(text)


@dataclass(frozen=True)
class Quantity:
    """A quantity found in text: kind is money, percent or duration."""

    kind: str
    start: int
    end: int
    text: str
    value: Number


_NUM = rf"(?:{AR_NUM}\s*(?:万|亿|千)?|{CN_NUM})"
_MONEY_CONTEXT = re.compile(
    r"(预算|投入|投资|节省|省下|成本|价格|报价|金额|合同|单子|订单|花费|费用|降价|砍|砍到|削减|减少|缩减|"
    r"budget|cost|costs|save|saves|saving|savings|invest|investment|price|priced|quote|"
    r"deal|contract|spend|worth|fee|revenue|cut|reduced|paid|pay)",
    re.IGNORECASE,
)
_COUNTERS = "件台个人名吨套次条家种辆台份位天周月年小时分钟秒"

_PATTERNS = [
    # money with an explicit currency before the number: $1.5M, ¥200万, USD 300,000
    ("money", re.compile(
        rf"(?:US\$|\$|¥|￥|RMB|CNY|USD|EUR|€|£)\s?(?P<num>{AR_NUM}|{EN_WORD})\s?"
        r"(?P<scale>k|K|m|M|mn|MM|bn|B|million|billion|thousand|万|亿|千)?(?![A-Za-z])")),
    # money with a unit after: 200万元, 20万美元, 5000块, 2 million dollars, 500k USD
    ("money", re.compile(
        rf"(?<![A-Za-z])(?P<num>{AR_NUM}|{CN_NUM}|{EN_WORD})\s?"
        r"(?P<scale>k|K|m|M|mn|bn|million|billion|thousand|万|亿|千)?\s?"
        r"(?:元|块钱|人民币|美元|美金|欧元|刀|dollars|dollar|usd|USD|rmb|RMB|yuan|CNY|euros?|EUR)")),
    ("money", re.compile(rf"(?P<num>{AR_NUM})\s?(?P<scale>万|亿|千)?块")),
    # Chinese big units without currency: 200万, 三百万, 1.2亿 (not followed by a counter)
    ("money", re.compile(rf"(?P<num>{AR_NUM}|{CN_NUM}?)个?(?P<scale>万|亿)(?![{_COUNTERS}])")),
    # English scale suffix: 1.5M, 500k, 2 million, 1.2bn
    ("money", re.compile(
        rf"(?<![A-Za-z])(?P<num>{AR_NUM})\s?(?P<scale>k|K|M|m|mn|mil|bn|million|billion|thousand)(?![A-Za-z])")),
    ("money", re.compile(rf"(?<![A-Za-z])(?P<num>{EN_WORD})\s(?P<scale>million|billion|thousand|grand)(?![A-Za-z])")),
    # internet shorthand: 320w = 320万
    ("money", re.compile(rf"(?<![A-Za-z])(?P<num>{AR_NUM})(?P<scale>[wW])(?![A-Za-z])")),
    # percentages: 60%, 百分之四十, 六成, 三成半, 40 percent
    ("percent", re.compile(rf"(?P<num>{AR_NUM})\s?(?:%|％|percent|per cent|pct)")),
    ("percent", re.compile(rf"百分之(?P<num>{AR_NUM}|{CN_NUM})")),
    ("percent", re.compile(r"(?P<num>[一二两三四五六七八九十]|\d)成(?:(?P<half>半)|(?P<tenth>[一二三四五六七八九]))?")),
    # fractions of a budget: 一半, 砍半, 四分之一, half, a quarter
    ("percent", re.compile(r"(?:(?<=砍了)|(?<=砍掉)|(?<=减了)|(?<=削了)|(?<=冻结了)|(?<=冻结)|(?<=少了)|(?<=只剩)|(?<=付))"
                           r"(?P<frac>一半)|(?P<frac2>减半|砍半|腰斩|四分之一|三分之一|四分之三|三分之二)")),
    ("percent", re.compile(r"(?<![A-Za-z])(?P<frac>in half|by half|halved|half (?:of )?(?:the|their|our|its) budget|"
                           r"a quarter|a third|a fifth|a tenth|two thirds|three quarters)(?![A-Za-z\-])", re.IGNORECASE)),
    # any Chinese fraction: 五分之一 → 20
    ("percent", re.compile(r"(?<!\d)(?P<den>[一二三四五六七八九十两]|\d{1,3})分之(?P<numr>[一二三四五六七八九十两]|\d{1,3})(?!\d)")),
    # percentage points: 5个点
    ("percent", re.compile(rf"(?P<num>{AR_NUM}|{CN_NUM})个点")),
    ("percent", re.compile(rf"(?<![A-Za-z])(?P<num>{EN_WORD})\s?(?:percent|per cent)", re.IGNORECASE)),
    # durations: 3天, 两周, 一个月, 3 days, two weeks
    ("duration", re.compile(
        rf"(?P<num>{AR_NUM}|{CN_NUM})\s?(?:个)?(?P<unit>工作日|天|日|周|星期|礼拜|个月|个多月)")),
    ("duration", re.compile(
        rf"(?<![A-Za-z])(?P<num>{AR_NUM}|{EN_WORD})[\s\-]?(?:business\s|working\s|calendar\s)?(?P<unit>days?|weeks?|months?)\b",
        re.IGNORECASE)),
    ("duration", re.compile(r"(?<![上下])(?P<unit>半个月|半年)")),
    # payment terms: net 90, N90, 月结90天 is covered by the day pattern
    ("duration", re.compile(r"(?<![A-Za-z])(?:net|n)\s?(?P<num>\d{2,3})(?P<unit>)(?![\d%])", re.IGNORECASE)),
    ("duration", re.compile(r"(?P<num>[一两二三四五六七八九十]|\d)个半(?P<unit>月)")),
    ("duration", re.compile(rf"(?<![A-Za-z\d])(?P<num>\d{1,4}|{EN_WORD})\s(?P<unit>days?|weeks?|months?) and a half\b",
                            re.IGNORECASE)),
    ("duration", re.compile(r"(?<![\d])(?P<num>\d{1,2}|[一两二三四五六七八九十])(?P<unit>年)(?!代|度|底|初|中|前)")),
    ("duration", re.compile(r"(?<![A-Za-z])(?P<num>a|one|two|three)?\s?(?P<unit>fortnights?)\b", re.IGNORECASE)),
    ("duration", re.compile(
        rf"(?<![A-Za-z])(?P<num>\d{{1,2}}|{EN_WORD})[\s\-]?(?P<unit>years?)\b", re.IGNORECASE)),
]

_FRACTIONS = {"一半": 50, "减半": 50, "砍半": 50, "腰斩": 50, "四分之一": 25, "三分之一": 33, "四分之三": 75,
              "三分之二": 67, "in half": 50, "by half": 50, "halved": 50, "half of": 50, "a quarter": 25,
              "a third": 33, "a fifth": 20, "a tenth": 10, "two thirds": 67, "three quarters": 75}

_DAYS = {"天": 1, "日": 1, "工作日": 1, "周": 7, "星期": 7, "礼拜": 7, "个月": 30, "个多月": 30, "年": 365,
         "day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "year": 365, "years": 365}


def _scale(scale: Optional[str]) -> float:
    if not scale:
        return 1
    if scale in ("万", "w", "W"):
        return 10_000
    if scale in ("亿",):
        return 100_000_000
    if scale in ("千",):
        return 1000
    return _EN_SCALES.get(scale.lower(), 1)


def _value(kind: str, m: re.Match) -> Optional[Number]:
    groups = m.groupdict()
    if kind == "duration":
        unit = groups.get("unit") or ""
        if unit == "半个月":
            return 15
        if unit == "":  # net 90 → 90 days
            num = parse_number(groups.get("num") or "")
            return clean_number(num) if num is not None else None
        if "and a half" in m.group(0).lower():
            num = parse_number(groups.get("num") or "")
            return clean_number((num + 0.5) * _DAYS[unit.lower()]) if num is not None else None
        if unit == "月" and "个半" in m.group(0):  # 一个半月
            num = parse_number(groups.get("num") or "")
            return clean_number((num + 0.5) * 30) if num is not None else None
        if unit.lower().startswith("fortnight"):
            num = parse_number(groups.get("num") or "") if groups.get("num") else 1
            return clean_number((num or 1) * 14)
        if unit == "半年":
            return 180
        num = parse_number(groups.get("num") or "")
        if num is None:
            return None
        return clean_number(num * _DAYS[unit.lower()])
    raw = (groups.get("num") or "").strip()
    if kind == "percent":
        if groups.get("den"):
            den, numr = parse_number(groups["den"]), parse_number(groups["numr"])
            return clean_number(round(100 * numr / den)) if den and numr is not None and numr <= den else None
        frac = groups.get("frac") or groups.get("frac2")
        if frac:
            frac = frac.lower()
            return 50 if "budget" in frac else _FRACTIONS[frac]
        num = parse_number(raw)
        if num is None:
            return None
        if "成" in m.group(0):
            tenth = _CN_DIGITS.get(groups.get("tenth") or "", 0)
            num = num * 10 + (5 if groups.get("half") else tenth)
        return clean_number(num)
    scale = groups.get("scale")
    if not raw and scale in ("万", "亿"):
        return None
    num = parse_number(raw) if raw else 1
    if num is None:
        return None
    return clean_number(num * _scale(scale))


def find_quantities(text: str) -> List[Quantity]:
    """Finds money, percentage and duration expressions in (simplified) text.

    Args:
        text: the message text, already normalised to simplified Chinese.

    Returns:
        Non-overlapping quantities, leftmost-longest first, ordered by position.
    """
    found: List[Quantity] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            # trim whitespace that a pattern may have swallowed
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if start == end:
                continue
            value = _value(kind, m)
            if value is None:
                continue
            if kind == "duration" and _is_point_in_time(text, start, end):
                continue
            found.append(Quantity(kind, start, end, text[start:end], value))
    found.extend(_plain_money(text, found))
    found.sort(key=lambda q: (q.start, -(q.end - q.start)))
    result: List[Quantity] = []
    for q in found:
        if result and q.start < result[-1].end:
            continue
        result.append(q)
    return result


def _is_point_in_time(text: str, start: int, end: int) -> bool:
    """'三个月后' / 'in six months' / 'within a year' name a date, not a length."""
    after = text[end:end + 3]
    before = text[max(0, start - 10):start].lower()
    return after.startswith(("后", "以后", "之后")) or bool(
        re.search(r"\b(in|after)\s+(about\s+|around\s+|roughly\s+)?$", before))


def _plain_money(text: str, taken: List[Quantity]) -> List[Quantity]:
    """Plain numbers ≥ 1000 right after a money word ('budget is 2,000,000')."""
    out = []
    for m in re.finditer(AR_NUM, text):
        if any(q.start <= m.start() < q.end for q in taken):
            continue
        value = parse_arabic(m.group(0))
        if value is None or value < 1000:
            continue
        grouped = bool(re.search(r"\d[,，]\d{3}", m.group(0)))
        if re.match(r"\s*(?:年|年度|[-/]\d)", text[m.end():m.end() + 3]) and 1900 <= value <= 2100:
            continue  # a year
        window = text[max(0, m.start() - 16):m.start()]
        if grouped or _MONEY_CONTEXT.search(window):
            out.append(Quantity("money", m.start(), m.end(), m.group(0), clean_number(value)))
    return out
