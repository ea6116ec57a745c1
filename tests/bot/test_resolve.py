"""One person, many names; one company, several spellings (bot.resolve)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import pytest

from bot.resolve import better_name, chinese_reference, company_core, resolve_account, resolve_person, same_person


@dataclass
class P:
    name: str
    title: Optional[str] = None
    aliases: List[str] = field(default_factory=list)


@dataclass
class A:
    name: str
    aliases: List[str] = field(default_factory=list)


WANG = P("王海涛", "总经理")
WANGFANG = P("王芳", "采购经理")
LI = P("李国栋", "技术总监")
LIU = P("刘敏", "财务")
OUYANG = P("欧阳静怡", "生产副总")
TOM = P("Tom Becker", "CFO")
TOMR = P("Thomas Reed", "IT manager")
MARIA = P("Maria Lopez", "CFO")
DAVID = P("David Wilson", "CIO")
CHEN = P("Chen Wei", "plant manager")
PEOPLE = [WANG, WANGFANG, LI, LIU, OUYANG, TOM, TOMR, MARIA, DAVID, CHEN]


@pytest.mark.parametrize("mention, expected", [
    ("王海涛", WANG), ("王海濤", WANG), ("王总", WANG), ("王總", WANG), ("李工", LI), ("刘姐", LIU), ("老刘", LIU),
    ("海涛", WANG), ("欧阳总", OUYANG), ("欧阳副总", OUYANG), ("王经理", WANGFANG),
    ("Tom", TOM), ("tom becker", TOM), ("Maria", MARIA), ("Ms. Lopez", MARIA), ("Lopez", MARIA),
    ("Dave", DAVID), ("Dave Wilson", DAVID), ("Mr. Wilson", DAVID), ("Mr. Chen", CHEN), ("Thomas", TOMR),
])
def test_short_forms_find_the_one_stored_person(mention, expected):
    assert resolve_person(PEOPLE, mention).found is expected


def test_a_surname_shared_by_two_people_asks_which_unless_the_honorific_tells():
    both = resolve_person([WANG, WANGFANG], "老王")
    assert both.ambiguous and set(map(id, both.candidates)) == {id(WANG), id(WANGFANG)}
    assert resolve_person([WANG, WANGFANG], "王总").found is WANG          # 总 fits 总经理
    assert resolve_person([WANG, WANGFANG], "王经理").found is WANGFANG    # 经理 fits 采购经理
    assert resolve_person([P("王强"), P("王丽")], "王总").ambiguous        # nothing tells them apart


@pytest.mark.parametrize("mention", ["张总", "Kevin", "Mr. Smith", "Lisa Chen", "王小明", ""])
def test_nobody_fits_a_new_name(mention):
    found = resolve_person(PEOPLE, mention)
    assert found.found is None and not found.ambiguous


def test_a_pronoun_is_the_person_in_context():
    assert resolve_person(PEOPLE, "她", context=LIU).found is LIU
    assert resolve_person(PEOPLE, "he", context=TOM).found is TOM
    assert resolve_person(PEOPLE, "she").found is None


def test_two_people_with_one_first_name_are_ambiguous():
    assert resolve_person([P("Kevin Liu"), P("Kevin Park")], "Kevin").ambiguous
    assert resolve_person([P("Kevin Liu"), P("Kevin Park")], "Kevin Park").found.name == "Kevin Park"


@pytest.mark.parametrize("mention, parts", [("王总", ("王", "", "总")), ("欧阳总", ("欧阳", "", "总")),
                                             ("老王", ("王", "", "")), ("阿明", ("", "明", "")),
                                             ("李工", ("李", "", "工")), ("林協理", ("林", "", "副总"))])  # 協理 is read as 副总
def test_chinese_forms_of_address(mention, parts):
    ref = chinese_reference(mention)
    assert ref is not None and (ref.surname, ref.given, ref.honorific) == parts


@pytest.mark.parametrize("mention", ["王海涛", "方案", "技术总监", "Tom", "总经理"])
def test_full_names_and_words_are_not_forms_of_address(mention):
    assert chinese_reference(mention) is None


ACCOUNTS = [A("宏盛机械"), A("Contoso Ltd"), A("台灣精機"), A("Acme Logistics"), A("Acme Corp"),
            A("华东精密", ["East China Precision"])]


@pytest.mark.parametrize("mention, expected", [
    ("宏盛", "宏盛机械"), ("宏盛機械", "宏盛机械"), ("Contoso", "Contoso Ltd"), ("contoso limited", "Contoso Ltd"),
    ("臺灣精機", "台灣精機"), ("台湾精机", "台灣精機"), ("East China Precision", "华东精密"), ("Acme Corp.", "Acme Corp"),
    ("acme logistics", "Acme Logistics"),
])
def test_short_and_other_spellings_find_the_account(mention, expected):
    assert resolve_account(ACCOUNTS, mention).found.name == expected


def test_an_ambiguous_or_unknown_account_is_never_guessed():
    assert resolve_account(ACCOUNTS, "Acme").ambiguous  # Acme Corp or Acme Logistics?
    assert resolve_account([A("Acme Corp")], "Acme").found.name == "Acme Corp"  # the name without its legal suffix
    assert resolve_account(ACCOUNTS, "Initech").found is None
    assert resolve_account(ACCOUNTS, "Con").found is None  # not a whole word
    assert resolve_account([A("Acme")], "Acme Logistics").found is None  # a longer name is another company


def test_company_core_drops_legal_suffixes():
    assert company_core("Contoso Ltd.") == company_core("contoso") == "contoso"
    assert company_core("宏盛机械有限公司") == "宏盛机械"


def test_the_fuller_name_replaces_a_short_one():
    assert better_name("Tom", "Tom Becker") == "Tom Becker"
    assert better_name("王总", "王海涛") == "王海涛"
    assert better_name("Tom Becker", "Tom") is None
    assert better_name("王总", "李国栋") is None
    assert same_person("Dave", "David Wilson") and not same_person("Dave", "Tom Becker")


@pytest.mark.parametrize("name", ["her influence", "她的影响力", "his budget", "she", "他", "Met Dave", "the CFO", ""])
def test_phrases_are_not_person_names(name):
    from bot.resolve import plausible_person_name

    assert not plausible_person_name(name)


@pytest.mark.parametrize("name", ["Maria Lopez", "tom becker", "王总", "欧阳静怡", "Dave", "O'Brien", "李国栋"])
def test_names_are_person_names(name):
    from bot.resolve import plausible_person_name

    assert plausible_person_name(name)


def test_short_forms_of_stored_people_are_found_in_a_sentence():
    from bot.resolve import find_mentions

    names = ["Tom Becker", "王海涛", "Maria Lopez"]
    assert find_mentions("delete Tom", names) == ["Tom"]
    assert find_mentions("please remove ms. lopez's notes", names)[0] == "Ms. Lopez"
    assert "王总" in find_mentions("把王总删了", names) and "老王" in find_mentions("把老王删了", names)
    assert find_mentions("delete the tomato account", names) == []
    assert find_mentions("把那个删了", names) == []


def test_short_account_names_in_a_read_request():
    from types import SimpleNamespace as A

    from bot.resolve import accounts_in_text

    acme, initech, huadong, dongfang = A(name="Acme Corp"), A(name="Initech"), A(name="华东精密"), A(name="东方物流")
    accounts = [acme, initech, huadong, dongfang]
    assert accounts_in_text(accounts, "summary of Acme") == [acme]
    assert accounts_in_text(accounts, "华东的概况") == [huadong]
    assert accounts_in_text(accounts, "華東的概況") == [huadong]
    assert accounts_in_text(accounts, "show me the summary") == []
    assert accounts_in_text(accounts, "acmes") == []


def test_an_english_and_chinese_name_is_one_person_by_either_part():
    from bot.resolve import same_person

    assert same_person("周子健", "Peter 周子健") and same_person("Peter", "Peter 周子健")
    assert same_person("Peter 周子健", "周子健")
    assert not same_person("陈晓雯", "Peter 周子健")


def test_someones_someone_is_not_a_name():
    from bot.resolve import plausible_person_name

    assert not plausible_person_name("Jonathan's boss")
    assert plausible_person_name("Jonathan Pike")
