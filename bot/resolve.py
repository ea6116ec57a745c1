"""Who and which account a rep means: one person, many names; one company, several spellings.

Reps name a person once in full and then as they would in a meeting: a first name ("Tom"),
a surname with an honorific (王总, 李工, 陈经理, 刘姐, 张董, 林协理, Mr. Chen, Ms. Lopez), 老王 /
小王 / 阿明, a nickname (Dave for David), or a pronoun (he, she, 他, 她). An account is named by a
short form ("Contoso" for Contoso Ltd, 宏盛 for 宏盛机械), with or without its legal suffix, in
either Chinese script (台灣精機 / 臺灣精機). This module turns such a mention into the stored
person or account when exactly one fits, and says which ones fit when several do, so the
caller can ask instead of guessing or creating a duplicate. It is the one place that decides
whether two names mean the same person.

Pure functions over anything with ``name`` (and, for people, ``title``): the store's rows in
the bot, plain objects in tests.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from bot.language import name_key, to_simplified
from bot.nlu.names import DOUBLE_SURNAMES, SURNAMES

#: forms of address after a Chinese surname, with the words a matching title contains
HONORIFICS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("副总", ("副总",)), ("总监", ("总监",)), ("总", ("总", "ceo", "gm", "president", "董事长")),
    ("董", ("董",)), ("经理", ("经理", "manager")), ("主任", ("主任",)), ("部长", ("部长",)), ("处长", ("处长",)),
    ("科长", ("科长",)), ("课长", ("课长",)), ("厂长", ("厂长",)), ("协理", ("协理",)), ("行长", ("行长",)),
    ("院长", ("院长",)), ("特助", ("特助", "助理")), ("组长", ("组长",)), ("局长", ("局长",)), ("所长", ("所长",)),
    ("秘书", ("秘书",)), ("顾问", ("顾问",)),
    # Taiwan's C-level titles: 吳財務長 is 吳佩珊 (財務長)
    ("财务长", ("财务长", "cfo")), ("资讯长", ("资讯长", "信息长", "cio")), ("信息长", ("信息长", "资讯长", "cio")),
    ("执行长", ("执行长", "ceo")), ("营运长", ("营运长", "coo")), ("技术长", ("技术长", "cto")),
    ("工", ("工程", "技术", "engineer", "cto", "it", "架构")), ("老师", ()), ("博士", ()), ("教授", ()),
    ("律师", ()), ("先生", ()), ("女士", ()), ("小姐", ()), ("姐", ()), ("哥", ()),
)
_LATIN_TITLES = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof|mister|madam)\.?\s+", re.IGNORECASE)
#: English given names and their usual short forms
NICKNAMES = {
    "david": {"dave"}, "thomas": {"tom", "tommy"}, "william": {"will", "bill", "billy"},
    "robert": {"rob", "bob", "bobby"}, "michael": {"mike", "mick"}, "james": {"jim", "jimmy", "jamie"},
    "katherine": {"kate", "kathy", "katie"}, "catherine": {"cathy", "kate"}, "elizabeth": {"liz", "beth", "lizzie"},
    "jennifer": {"jen", "jenny"}, "samuel": {"sam"}, "samantha": {"sam"}, "alexander": {"alex"},
    "alexandra": {"alex"}, "christopher": {"chris"}, "christine": {"chris"}, "daniel": {"dan", "danny"},
    "joseph": {"joe"}, "matthew": {"matt"}, "nicholas": {"nick"}, "steven": {"steve"}, "stephen": {"steve"},
    "anthony": {"tony"}, "benjamin": {"ben"}, "andrew": {"andy", "drew"}, "patrick": {"pat"},
    "patricia": {"pat", "patty"}, "edward": {"ed", "eddie"}, "richard": {"rick", "rich", "dick"},
    "gregory": {"greg"}, "jeffrey": {"jeff"}, "kenneth": {"ken"}, "lawrence": {"larry"}, "ronald": {"ron"},
    "timothy": {"tim"}, "vincent": {"vince"}, "margaret": {"maggie", "meg", "peggy"}, "rebecca": {"becky"},
    "victoria": {"vicky"}, "jonathan": {"jon"}, "nathaniel": {"nate"}, "nathan": {"nate"}, "zachary": {"zach"},
    "charles": {"charlie", "chuck"}, "frederick": {"fred"}, "philip": {"phil"}, "raymond": {"ray"},
    "susan": {"sue"}, "deborah": {"deb", "debbie"}, "abigail": {"abby"}, "joshua": {"josh"},
}
#: legal and generic suffixes that a short account name leaves out
COMPANY_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司", "株式会社",
    "corporation", "incorporated", "limited", "company", "holdings", "group", "corp", "inc", "ltd", "llc",
    "plc", "gmbh", "co", "ag", "sa", "bv", "pte", "pty",
)
PRONOUNS = frozenset({"he", "she", "him", "her", "his", "hers", "this person", "that person", "the same person",
                      "他", "她", "此人", "这个人", "这位", "那个人", "那位", "对方", "這個人", "這位"})


def _latin_words(text: str) -> List[str]:
    return [w.casefold() for w in re.findall(r"[A-Za-z][A-Za-z'\-]*", text or "")]


def _han(text: str) -> str:
    return "".join(re.findall(r"[\u3400-\u9fff]", to_simplified(unicodedata.normalize("NFKC", text or ""))))


def _same_given(a: str, b: str) -> bool:
    """Whether two English given names are the same name or one is a usual short form of the other."""
    return a == b or b in NICKNAMES.get(a, set()) or a in NICKNAMES.get(b, set())


@dataclass(frozen=True)
class ChineseReference:
    """A Chinese mention taken apart: 王总 → surname 王, honorific 总; 老王 → surname 王; 阿明 → given 明."""

    surname: str = ""
    given: str = ""
    honorific: str = ""
    title_words: Tuple[str, ...] = ()


def surname_of(name: str) -> str:
    """The surname of a Chinese full name (欧阳静怡 → 欧阳, 王海涛 → 王), '' if it has none."""
    han = _han(name)
    if len(han) < 2 or han != name_key(name):
        return ""
    if han[:2] in DOUBLE_SURNAMES and len(han) >= 3:
        return han[:2]
    return han[0] if han[0] in SURNAMES else ""


def chinese_reference(mention: str) -> Optional[ChineseReference]:
    """The parts of a Chinese short mention (王总, 李工, 老王, 小刘, 阿明), or None if it is not one."""
    key = name_key(mention)
    han = _han(mention)
    if not han or han != key or len(han) > 4:
        return None
    if len(han) in (2, 3) and han[0] in "老小" and han[1:] in SURNAMES + "".join(DOUBLE_SURNAMES):
        return ChineseReference(surname=han[1:])
    if len(han) == 2 and han[0] == "阿":
        return ChineseReference(given=han[1])
    for honorific, words in HONORIFICS:
        if han.endswith(honorific) and len(han) > len(honorific):
            surname = han[: -len(honorific)]
            if surname in DOUBLE_SURNAMES or (len(surname) == 1 and surname in SURNAMES):
                return ChineseReference(surname=surname, honorific=honorific, title_words=words)
    return None


#: titles one would not address by a lower form (王经理 is not the 总经理, who is 王总)
_ADDRESSED_HIGHER = ("总经理", "副总", "总监", "董事")


def _title_fits(title: Optional[str], words: Sequence[str]) -> bool:
    if not words:
        return True
    folded = to_simplified(title or "").casefold()
    if "经理" in words and any(h in folded for h in _ADDRESSED_HIGHER):
        return False
    return any(w in folded for w in words)


@dataclass(frozen=True)
class _Named:
    name: str
    title: Optional[str] = None


def is_short_name(name: str) -> bool:
    """A name that is only a form of address or one word: 秦总, 老王, Tom."""
    return chinese_reference(name) is not None or (len(_bare_words(name)) == 1 and not _han(name))


def _bare_words(name: str) -> List[str]:
    """The Latin words of a name without its form of address: "Ms. Chaudhry" → [chaudhry]."""
    return _latin_words(_LATIN_TITLES.sub("", name.strip()))


def _person_score(mention: str, person: Any) -> int:
    """How well `mention` names `person`: 0 not at all, higher is more specific."""
    name = str(getattr(person, "name", "") or "")
    if not mention or not name:
        return 0
    if name_key(mention) == name_key(name):
        return 100
    for alias in getattr(person, "aliases", None) or []:
        if name_key(mention) == name_key(alias):
            return 90
    if is_short_name(name) and not is_short_name(mention):
        # stored only as 秦总 / "Tom" so far, now named in full (秦国华, Tom Reed): the same person, weakly
        return 50 if _person_score(name, _Named(mention)) > 0 else 0
    mixed = _mixed_name_score(mention, name)
    if mixed:
        return mixed
    ref = chinese_reference(mention)
    if ref is not None:
        han = _han(name)
        if ref.given:
            return 60 if han.endswith(ref.given) and len(han) >= 2 else 0
        if surname_of(name) == ref.surname or (han.startswith(ref.surname) and chinese_reference(name) is not None):
            return 70 if _title_fits(getattr(person, "title", None), ref.title_words) and ref.title_words else 60
        return 0
    m_han, n_han = _han(mention), _han(name)
    if m_han and m_han == name_key(mention) and n_han == name_key(name):
        # a given name alone: 海涛 for 王海涛
        surname = surname_of(name)
        if surname and len(m_han) >= 1 and n_han == surname + m_han and len(n_han) >= 3:
            return 65
        return 0
    stripped = _LATIN_TITLES.sub("", mention.strip())
    m_words, n_words = _latin_words(stripped), _latin_words(name)
    if not m_words or not n_words:
        return 0
    if len(m_words) == 1:
        word = m_words[0]
        honorific = stripped != mention.strip()
        if honorific:  # Mr. Chen: a family name, first or last (Chen Wei or Wei Chen)
            return 75 if word in (n_words[-1], n_words[0]) else 0
        if _same_given(word, n_words[0]):
            return 70 if word == n_words[0] else 55
        if len(n_words) > 1 and word == n_words[-1]:
            return 60
        return 0
    # several words: each in order, the first may be a short form ("Dave Wilson" for David Wilson)
    if len(m_words) <= len(n_words) and m_words[-1] == n_words[-1] and _same_given(m_words[0], n_words[0]):
        return 85
    if len(m_words) == 2 and len(n_words) >= 2 and len(m_words[1]) == 1 and n_words[-1].startswith(m_words[1]) \
            and _same_given(m_words[0], n_words[0]):
        return 80  # "Chris P" for Chris Patel
    return 0


@dataclass
class Resolution:
    """What a mention resolved to: one thing, several candidates, or nothing."""

    found: Any = None
    candidates: List[Any] = field(default_factory=list)
    how: str = ""

    @property
    def ambiguous(self) -> bool:
        return self.found is None and len(self.candidates) > 1


def is_pronoun(mention: Optional[str]) -> bool:
    return bool(mention) and to_simplified(mention.strip()).casefold() in {to_simplified(p) for p in PRONOUNS}


def _mixed_name_score(mention: str, name: str) -> int:
    """"Peter 周子健" named as 周子健 or as Peter, and 周子健 named in full as "Peter 周子健"."""
    for short, full in ((mention, name), (name, mention)):
        f_han, f_words = _han(full), _latin_words(full)
        if not (f_han and f_words and len(f_han) >= 2):
            continue
        if name_key(short) == name_key(f_han):
            return 80
        if len(_latin_words(short)) == 1 and not _han(short) and _latin_words(short)[0] in f_words:
            return 70
    return 0


def resolve_person(people: Iterable[Any], mention: Optional[str], context: Any = None) -> Resolution:
    """The one stored person `mention` names among `people`, or the candidates when several fit.

    A pronoun is the person in `context` (the one last discussed). An exact name always wins
    over a short form; among short forms, only the best-fitting ones are candidates.
    """
    if not mention or not mention.strip():
        return Resolution()
    if is_pronoun(mention):
        return Resolution(found=context, candidates=[context] if context is not None else [], how="pronoun")
    scored = [(s, p) for p in people if (s := _person_score(mention, p)) > 0]
    if not scored:
        return Resolution()
    best = max(s for s, _ in scored)
    top = [p for s, p in scored if s == best]
    if len(top) == 1:
        return Resolution(found=top[0], candidates=top, how="exact" if best == 100 else "short")
    return Resolution(candidates=top, how="ambiguous")


def same_person(a: str, b: str) -> bool:
    """Whether two names could be the same person (one is a short form of the other)."""
    class _P:
        def __init__(self, name: str) -> None:
            self.name, self.title = name, None

    return _person_score(a, _P(b)) > 0 or _person_score(b, _P(a)) > 0


def company_core(name: str) -> str:
    """A company name without legal suffixes and punctuation, for comparing short and long forms."""
    key = name_key(name)
    changed = True
    while changed and key:
        changed = False
        for suffix in COMPANY_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix) + 1:
                key, changed = key[: -len(suffix)], True
    return key


def _account_score(mention: str, account: Any) -> int:
    names = [str(getattr(account, "name", "") or "")] + list(getattr(account, "aliases", None) or [])
    m_key, m_core = name_key(mention), company_core(mention)
    best = 0
    for name in names:
        key, core = name_key(name), company_core(name)
        if not key or not m_key:
            continue
        if key == m_key:
            return 100
        if core and core == m_core:
            best = max(best, 90)
        elif len(m_core) >= 2 and (core.startswith(m_core) or (m_core in core and not m_core.isascii())):
            # a short form: 宏盛 for 宏盛机械, Contoso for Contoso Ltd (Latin: whole leading words only)
            if m_core.isascii():
                words, m_words = _latin_words(name), _latin_words(mention)
                if words[: len(m_words)] == m_words:
                    best = max(best, 70)
            else:
                best = max(best, 70)
    return best


def resolve_account(accounts: Iterable[Any], mention: Optional[str]) -> Resolution:
    """The one stored account `mention` names, or the candidates when several fit."""
    if not mention or not mention.strip():
        return Resolution()
    scored = [(s, a) for a in accounts if (s := _account_score(mention, a)) > 0]
    if not scored:
        return Resolution()
    exact = [a for s, a in scored if s == 100]
    if len(exact) == 1:
        return Resolution(found=exact[0], candidates=exact, how="exact")
    # a short form decides only when no other account starts the same way (Acme: Acme Corp or Acme Logistics?)
    top = exact or [a for _, a in scored]
    if len(top) == 1:
        return Resolution(found=top[0], candidates=top, how="short")
    return Resolution(candidates=top, how="ambiguous")


def better_name(stored: str, mention: str) -> Optional[str]:
    """The fuller of two names of one person, when `mention` is fuller than `stored` (Tom → Tom Becker, 王总 → 王海涛)."""
    if name_key(stored) == name_key(mention):
        return None
    stored_short = chinese_reference(stored) is not None or len(_bare_words(stored)) == 1 and len(
        _latin_words(mention)) > 1  # Tom, Ms. Chaudhry
    mention_full = chinese_reference(mention) is None and (len(_han(mention)) >= 2 or len(_latin_words(mention)) > 1)
    return mention if stored_short and mention_full and same_person(stored, mention) else None


#: words that are never part of a person's name (what a tagger sometimes takes for one)
_NOT_NAME_WORDS = frozenset("""
her his he she him they their them it its our we us my me i you your this that the a an is are was were be actually
also now still really influence budget title role attitude stage account deal need meeting met meet call called
said says told today yesterday tomorrow and or but not no yes with from at on in of for to by about
""".split())
#: characters that never occur in a Chinese name but do in the phrases around one
_NOT_NAME_CHARS = set("的是了在说影响预算项目客户我你他她们这那也都还很就要会和跟与对把被不没有吗呢吧则")
_NOT_NAME_PARTS = ("公司", "客户", "项目")


def plausible_person_name(name: Optional[str]) -> bool:
    """Whether a span the NLU took for a person can be one ("her influence", "她的影响力" cannot)."""
    text = (name or "").strip().strip(";；,，.。:：!！?？")  # "Maria Lopez;" is Maria Lopez
    if not text or is_pronoun(text):
        return False
    words = _latin_words(text)
    if words and any(w in _NOT_NAME_WORDS for w in words):
        return False
    if len(words) > 4 or re.search(r"[\d%,，。;；:：!！?？]", text):  # a sentence, not a name
        return False
    if re.search(r"['’]s\s+\S", text):  # "Jonathan's boss": someone's someone, not a name
        return False
    han = _han(text)
    if han and (len(han) > 4 and chinese_reference(text) is None or set(han) & _NOT_NAME_CHARS
                or any(p in han for p in _NOT_NAME_PARTS)):
        return False
    if han and not words and chinese_reference(text) is None and not (
            han[:2] in DOUBLE_SURNAMES or han[0] in SURNAMES or han[0] == "阿"):
        return False  # a Chinese name starts with a surname: 赛默飞, 想上电子 are not people
    if (han and not words and len(han) == 3 and han[2] in "业業部厂廠局处處科组組司院所站队隊"
            and _a_common_word(to_simplified(han[:2]))):
        return False  # 石化业, 金融部: a dictionary word and a trade or department, not 秦国华
    return bool(words or han)


def _a_common_word(word: str) -> bool:
    from bot.nlu.names import _jieba

    freq, tags = _jieba()
    return freq.get(word, 0) >= 50 and tags.get(word) not in ("nr", "nrfg", "nrt")


def short_forms(name: str) -> List[str]:
    """The ways a rep may name a stored person in passing: Tom / Becker / Mr. Becker, 王总 / 老王 / 海涛."""
    forms = {name}
    words = re.findall(r"[A-Za-z][A-Za-z'\-]*", name)
    if len(words) > 1:
        first, last = words[0], words[-1]
        forms.add(first)
        forms.update(n.title() for n in NICKNAMES.get(first.casefold(), set()))
        if len(last) >= 3:
            forms.update({last, f"Mr. {last}", f"Ms. {last}", f"Mrs. {last}", f"Dr. {last}", f"Mr {last}", f"Ms {last}"})
    surname = surname_of(name)
    han = _han(name)
    if words and han and len(han) >= 2:  # "Peter 周子健": 周子健, 周总, or Peter
        forms.add(han)
        forms.update(w for w in words if len(w) >= 3)
        surname = surname or surname_of(han)
    if surname:
        forms.update(surname + h for h, _ in HONORIFICS)
        forms.update({"老" + surname, "小" + surname})
        if len(han) - len(surname) == 2:
            forms.add(han[len(surname):])
    return sorted(forms, key=len, reverse=True)


def find_mentions(text: str, names: Iterable[str]) -> List[str]:
    """The short forms of `names` that `text` contains (whole words for Latin forms), longest first."""
    folded = to_simplified(unicodedata.normalize("NFKC", text or "")).casefold()
    found: List[str] = []
    for name in names:
        for form in short_forms(name):
            needle = to_simplified(form).casefold()
            if len(needle) < 2 or form in found:
                continue
            if needle.isascii():
                if re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", folded):
                    found.append(form)
            elif needle in folded:
                found.append(form)
    return sorted(set(found), key=len, reverse=True)


def same_company(a: str, b: str) -> bool:
    """Whether two names could be the same company (one is the other's short form or legal name)."""
    class _A:
        def __init__(self, name: str) -> None:
            self.name, self.aliases = name, []

    return _account_score(a, _A(b)) > 0 or _account_score(b, _A(a)) > 0


def person_shaped(name: str) -> bool:
    """A Chinese name or form of address (施文彬, 吳處長) rather than a company's name."""
    from bot.nlu.names import find_person_names

    han = _han(name)
    if not han or han != name_key(name):
        return False
    if chinese_reference(name) is not None:
        return True
    spans = find_person_names(han)
    return len(spans) == 1 and spans[0].text == han


def without_title(name: str) -> str:
    """"Dr. Anita Rao" → "Anita Rao": a new person is stored under their name (a lone "Mr. Chen" stays)."""
    bare = _LATIN_TITLES.sub("", (name or "").strip())
    return bare if len(_latin_words(bare)) >= 2 else name


def accounts_in_text(accounts: Iterable[Any], text: str) -> List[Any]:
    """The accounts a message names by a short form the NLU did not tag.

    "summary of Acme" (Acme Corp), "华东的概况" (华东精密): a Latin name's first word, as a whole
    word; a Chinese name's first two characters.
    """
    folded = to_simplified(unicodedata.normalize("NFKC", text or "")).casefold()
    found = []
    for account in accounts:
        name = to_simplified(str(account.name)).casefold()
        words = _latin_words(name)
        han = _han(name)
        if words and len(words[0]) >= 3 and words[0] not in _NOT_NAME_WORDS:
            hit = re.search(rf"(?<![a-z0-9]){re.escape(words[0])}(?![a-z0-9])", folded) is not None
        elif len(han) >= 3:
            hit = han[:2] in folded
        else:
            hit = False
        if hit:
            found.append(account)
    return found
