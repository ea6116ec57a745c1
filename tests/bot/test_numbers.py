import pytest

from bot.numbers import find_quantities, parse_chinese, parse_number


@pytest.mark.parametrize(
    "text, value",
    [("三百万", 3_000_000), ("两千五百", 2500), ("一亿二千万", 120_000_000), ("十五", 15), ("二零二六", 2026)],
)
def test_parse_chinese_numerals(text, value):
    assert parse_chinese(text) == value


@pytest.mark.parametrize(
    "text, value", [("2,000,000", 2_000_000), ("1.5", 1.5), ("two million", 2_000_000), ("2.5万", 25_000)]
)
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("预算200万", "money", 2_000_000),
        ("他们有三百万预算", "money", 3_000_000),
        ("预算两百万元", "money", 2_000_000),
        ("budget $1.5M", "money", 1_500_000),
        ("around 500k", "money", 500_000),
        ("the budget is 2,000,000", "money", 2_000_000),
        ("20万美元", "money", 200_000),
        ("1.2亿的项目", "money", 120_000_000),
        ("we'd save two million dollars", "money", 2_000_000),
        ("影响力六成", "percent", 60),
        ("三成半", "percent", 35),
        ("百分之四十", "percent", 40),
        ("60% influence", "percent", 60),
        ("延迟了3天", "duration", 3),
        ("晚两周", "duration", 14),
        ("推迟一个月", "duration", 30),
        ("3 days late", "duration", 3),
        ("two weeks behind", "duration", 14),
    ],
)
def test_find_quantities(text, kind, value):
    found = find_quantities(text)
    assert [(q.kind, q.value) for q in found] == [(kind, value)]
    q = found[0]
    assert text[q.start:q.end] == q.text


def test_find_quantities_keeps_each_amount_apart():
    found = find_quantities("投入200万，每年节省80万")
    assert [(q.kind, q.value) for q in found] == [("money", 2_000_000), ("money", 800_000)]


@pytest.mark.parametrize("text", ["产能提升20万件", "2026-12-01", "3月份", "we have 3 lines", "the year 2027"])
def test_find_quantities_ignores_counts_dates_and_small_numbers(text):
    assert [q for q in find_quantities(text) if q.kind == "money"] == []
