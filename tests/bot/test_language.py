import pytest

from bot.language import EN, ZH_HANS, ZH_HANT, detect, name_key, to_script, to_simplified


@pytest.mark.parametrize(
    "text, expected",
    [
        ("华东精密的刘建国是技术总监，影响力六成，是支持者", ZH_HANS),
        ("華東精密的劉建國是技術總監，影響力六成，是支持者", ZH_HANT),
        ("客戶說預算不夠", ZH_HANT),
        ("客户说 budget 不够", ZH_HANS),          # mixed, Chinese frame
        ("帮我 prepare 一下明天的 meeting", ZH_HANS),
        ("I met 刘建国 today at 华东精密", EN),    # English frame with Chinese names
        ("Maria Lopez is the CFO at Acme", EN),
        ("Acme", EN),
        ("刘建国", ZH_HANS),
        ("請用中文回覆", ZH_HANT),
    ],
)
def test_detect_language_and_script(text, expected):
    assert detect(text) == expected


@pytest.mark.parametrize("text", ["", "60%", "2,000,000", "🙂🙂", "  "])
def test_detect_returns_none_without_letters(text):
    assert detect(text) is None


def test_to_simplified_keeps_length_so_entity_offsets_stay_valid():
    trad = "華東精密的劉建國是技術總監，預算兩百萬，對手是西門子"
    simp = to_simplified(trad)
    assert simp == "华东精密的刘建国是技术总监，预算两百万，对手是西门子"
    assert len(simp) == len(trad)


def test_to_script_converts_only_for_traditional_users():
    assert to_script("华东精密的刘建国是支持者", ZH_HANT) == "華東精密的劉建國是支持者"
    assert to_script("华东精密的刘建国是支持者", ZH_HANS) == "华东精密的刘建国是支持者"
    assert to_script("Saved.", EN) == "Saved."


def test_name_key_matches_across_scripts_case_and_spacing():
    assert name_key("華東精密") == name_key("华东精密")
    assert name_key("Acme Corp.") == name_key("acme corp") == name_key("ACME  Corp")
    assert name_key("Acme") != name_key("Acme Corp")
