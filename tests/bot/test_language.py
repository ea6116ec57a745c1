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


def test_names_in_replies_are_shown_as_typed_in_traditional_script():
    from bot import i18n

    out = i18n.render("stakeholder_saved_new", "zh-Hant", person="林協理", account="台灣精密", facts="", new_account="")
    assert out == "已保存：台灣精密 · 林協理（新人員）。"  # the template converted, the names as typed
    assert i18n.render("account_created", "zh-Hans", account="台灣精密機械", details="").endswith("台灣精密機械。")


def test_a_text_holding_the_token_characters_is_never_replaced_by_a_name():
    from bot import i18n

    out = i18n.render("stakeholder_saved_new", "zh-Hant", person="林協理", account="台灣精密",
                      facts="\ue0000\ue001", new_account="")
    assert "\ue0000\ue001" in out and out.count("台灣精密") + out.count("臺灣精密") == 1
