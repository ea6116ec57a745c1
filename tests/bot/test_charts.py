"""Charts: valid PNGs, drawn with a real CJK font, power-map geometry, scripts."""
from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import Any

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib.text import Text

from bot import charts
from bot.language import script_counts
from bot.roleplay.engine import load_scenario, replay, scenario_ids
from bot.roleplay.scoring import score

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def person(name: str, **kw: Any) -> dict[str, Any]:
    base = {"name": name, "title": None, "roles": [], "attitude": None, "influence": None,
            "relationship_stage": None}
    base.update(kw)
    return base


PEOPLE_EN = [
    person("Maria Lopez", title="CFO", roles=["economic_buyer"], attitude="supporter", influence=40,
           relationship_stage="trusted"),
    person("Tom Becker", title="Head of IT", roles=["technical_buyer", "coach"], attitude="supporter", influence=38,
           relationship_stage="ally"),
    person("Li Wei", title="Purchasing Director", roles=["financial"], attitude="opponent", influence=60),
    person("Sarah O'Neil", title="Plant Manager", roles=["user_buyer"], attitude="neutral", influence=20),
    person("James Chen", title="CEO", roles=["economic_buyer"], influence=90),
    person("Anna Schmidt", attitude="neutral", relationship_stage="engaged"),
    person("Peter Wong"),
]
PEOPLE_ZH = [
    person("刘建国", title="技术总监", roles=["technical", "coach"], attitude="supporter", influence=60,
           relationship_stage="trusted"),
    person("王芳", title="采购总监", roles=["financial"], attitude="opponent", influence=40,
           relationship_stage="acquainted"),
    person("张总", title="总经理", roles=["economic_buyer"], attitude="neutral", influence=90),
    person("赵磊", title="IT运维主管", roles=["user"]),
    person("孙丽", title="财务经理", roles=["financial"], attitude="opponent", relationship_stage="engaged"),
]
ROWS = [
    {"score": 35, "skills": {"discovery": 20, "question_mix": 30, "situation_restraint": 100, "restraint": 100,
                             "objection_handling": 0, "advance": 0}, "title": "与刘建国的会谈"},
    {"score": 61, "skills": {"discovery": 55, "question_mix": 60, "situation_restraint": 100, "restraint": 67,
                             "objection_handling": 100, "advance": 33}, "title": "Meeting with Maria Lopez"},
    {"score": 75, "skills": {"discovery": 60, "question_mix": 70, "situation_restraint": 100, "restraint": 100,
                             "objection_handling": 100, "advance": 100}, "title": "与刘建国的会谈"},
]


def _card():
    scenario = load_scenario(scenario_ids()[0])
    moves = [{"move": "spin_situation", "text": "How many production lines do you run?"},
             {"move": "spin_problem", "text": "Where does it hurt most in peak season?"},
             {"move": "spin_implication", "text": "What does that cost you in lost orders?"},
             {"move": "pitch_product", "text": "Our product solves this."},
             {"move": "ask_commitment", "text": "Can we set up a pilot?"}]
    return score(replay(scenario, moves))


CHARTS = {
    "power_map": lambda lang: charts.power_map_png("华东精密" if lang != "en" else "Acme Corp",
                                                   PEOPLE_EN + PEOPLE_ZH, lang),
    "score_card": lambda lang: charts.score_card_png(_card(), lang, title="与刘建国的会谈"),
    "practice_history": lambda lang: charts.practice_history_png(ROWS, lang),
}
FIGURES = {
    "power_map": lambda lang: charts.power_map_figure("华东精密", PEOPLE_EN + PEOPLE_ZH, lang),
    "score_card": lambda lang: charts.score_card_figure(_card(), lang, title="与刘建国的会谈"),
    "practice_history": lambda lang: charts.practice_history_figure(ROWS, lang),
}
LANGS = ("en", "zh-Hans", "zh-Hant")


def png_size(data: bytes) -> tuple:
    assert data[:8] == PNG_MAGIC, "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def glyph_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "missing from current font" in str(w.message)]


def figure_texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.fixture
def fresh_font(monkeypatch):
    """Lets a test choose the font through CHART_FONT; the real choice is restored afterwards."""
    charts.chart_font.cache_clear()
    charts._width_pt.cache_clear()
    yield monkeypatch
    monkeypatch.delenv("CHART_FONT", raising=False)
    charts.chart_font.cache_clear()
    charts._width_pt.cache_clear()


# --- output -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", sorted(CHARTS))
def test_each_chart_is_a_sensible_png_without_missing_glyphs(name: str, lang: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = CHARTS[name](lang)
    assert not glyph_warnings(caught), glyph_warnings(caught)[:3]
    width, height = png_size(data)
    assert 700 <= width <= 2000 and 400 <= height <= 2000, (width, height)
    assert 15_000 < len(data) < 400_000
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.verify()


def test_rendering_is_deterministic() -> None:
    assert charts.power_map_png("华东精密", PEOPLE_ZH, "zh-Hant") == charts.power_map_png("华东精密", PEOPLE_ZH,
                                                                                       "zh-Hant")
    assert charts.practice_history_png(ROWS, "en") == charts.practice_history_png(ROWS, "en")


def test_empty_inputs_still_render() -> None:
    png_size(charts.power_map_png("Acme", [], "en"))
    png_size(charts.practice_history_png([], "zh-Hans"))
    png_size(charts.practice_history_png(ROWS[:1], "en"))
    png_size(charts.score_card_png({"counts": {}, "shares": {}, "points": {}, "total": 0}, "en"))


def test_user_text_the_font_lacks_is_replaced_not_drawn_as_boxes() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png_size(charts.power_map_png("Acme 🚀", [person("Ann 😀", title="CTO ✅", influence=50)], "en"))
    assert not glyph_warnings(caught)
    layout = charts.power_map_layout([person("Ann 😀", influence=50)])
    assert layout.placements[0].lines[0].text.startswith("Ann ?")


# --- font --------------------------------------------------------------------------------------

def test_chart_font_is_a_cjk_font_covering_both_scripts() -> None:
    font = charts.chart_font()
    assert font.path.is_file()
    for ch in "权力地图影响力支持者反对者權力地圖影響力關係內部教練評分卡練習記錄":
        assert ord(ch) in font.codepoints, ch


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_text_of_a_chinese_chart_resolves_to_the_cjk_font(name: str) -> None:
    font = charts.chart_font()
    with matplotlib.rc_context(charts.chart_rc()):
        fig = FIGURES[name]("zh-Hant")
        fig.canvas.draw()  # creates the tick labels
        texts = figure_texts(fig)
        assert len(texts) > 10
        for text in texts:
            found = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
            assert Path(found).resolve() == font.path.resolve(), (text.get_text(), found)
            missing = [ch for ch in text.get_text() if not ch.isspace() and ord(ch) not in font.codepoints]
            assert not missing, (text.get_text(), missing)


def _text_png(text: str, font_path: Path) -> bytes:
    """One line drawn with a given font file (test helper, same canvas as the charts)."""
    fig = charts._new_figure(2, 0.6)
    fig.text(0.05, 0.3, text, fontproperties=font_manager.FontProperties(fname=str(font_path), size=20))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_chinese_is_really_drawn_not_tofu() -> None:
    font = charts.chart_font().path
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a, b = _text_png("權力", font), _text_png("地圖", font)
    assert not glyph_warnings(caught)
    assert a != b, "different characters rendered identically: the font draws boxes"
    # The check has teeth: a Latin-only font draws both as the same missing-glyph boxes and warns.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a, b = _text_png("權力", DEJAVU), _text_png("地圖", DEJAVU)
    assert glyph_warnings(caught)
    assert a == b


def test_a_missing_glyph_during_rendering_raises() -> None:
    def build():
        fig = charts._new_figure(2, 1)
        fig.text(0.1, 0.5, "權力地圖", fontproperties=font_manager.FontProperties(fname=str(DEJAVU)))
        return fig

    with pytest.raises(charts.ChartFontError, match="missing from current font"):
        charts._render(build)


def test_chart_font_override_must_exist_and_cover_chinese(fresh_font, tmp_path: Path) -> None:
    fresh_font.setenv("CHART_FONT", str(tmp_path / "nope.ttf"))
    with pytest.raises(charts.ChartFontError, match="does not exist"):
        charts.chart_font()
    charts.chart_font.cache_clear()
    fresh_font.setenv("CHART_FONT", str(DEJAVU))
    with pytest.raises(charts.ChartFontError, match="no Chinese glyphs"):
        charts.power_map_png("Acme", PEOPLE_EN, "en")


def test_no_font_anywhere_fails_loudly(fresh_font, tmp_path: Path) -> None:
    fresh_font.delenv("CHART_FONT", raising=False)
    fresh_font.setattr(charts, "FONT_CANDIDATES", (tmp_path / "missing.ttc",))
    fresh_font.setattr(charts, "FONT_DIR", tmp_path / "no-fonts")
    with pytest.raises(charts.ChartFontError, match="fonts-wqy-microhei"):
        charts.score_card_png(_card(), "zh-Hans")


def test_chart_font_override_is_used(fresh_font) -> None:
    real = charts.chart_font().path
    charts.chart_font.cache_clear()
    fresh_font.setenv("CHART_FONT", str(real))
    assert charts.chart_font().path == real


# --- power map geometry ------------------------------------------------------------------------

def test_higher_influence_is_placed_higher() -> None:
    layout = charts.power_map_layout([person("Low", attitude="neutral", influence=20),
                                      person("High", attitude="neutral", influence=80)])
    low, high = layout.placements
    assert high.y > low.y
    assert (low.y, high.y) == (20, 80)
    assert high.label_top > low.label_top


def test_opponents_left_of_neutral_left_of_supporters() -> None:
    layout = charts.power_map_layout([person("S", attitude="supporter", influence=50),
                                      person("O", attitude="opponent", influence=50),
                                      person("N", attitude="neutral", influence=50)])
    s, o, n = layout.placements
    assert o.x < n.x < s.x
    assert (o.column, n.column, s.column) == ("opponent", "neutral", "supporter")
    assert layout.columns == ("opponent", "neutral", "supporter")


def test_unknown_values_are_placed_not_dropped() -> None:
    people = [person("Known", attitude="supporter", influence=10),
              person("NoInfluence", attitude="opponent"),
              person("NoAttitude", influence=70),
              person("Nothing"),
              person("Odd", attitude="maybe", influence="lots")]
    layout = charts.power_map_layout(people)
    assert [p.index for p in layout.placements] == list(range(len(people)))
    known, no_infl, no_att, nothing, odd = layout.placements
    assert layout.band is not None and layout.columns[-1] == charts.UNKNOWN
    lo, hi = layout.band
    for p in (no_infl, nothing, odd):
        assert lo <= p.y <= hi < 0 < known.y, p
    assert no_att.y == 70 and no_att.column == nothing.column == odd.column == charts.UNKNOWN
    assert no_att.x > known.x  # the "attitude unknown" column is right of the three attitudes
    for p in layout.placements:
        assert 0 <= p.x <= len(layout.columns) and layout.ylim[0] <= p.y <= layout.ylim[1]
    # and they are drawn: one marker per person
    with matplotlib.rc_context(charts.chart_rc()):
        fig = charts.power_map_figure("Acme", people, "en")
    ax = fig.axes[0]
    markers = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert len(markers) == len(people)
    drawn = {t.get_text() for t in ax.texts}
    assert {"Known · 10%", "NoInfluence", "NoAttitude · 70%", "Nothing", "Odd"} <= drawn


def test_no_band_or_extra_column_when_everything_is_known() -> None:
    layout = charts.power_map_layout([person("A", attitude="supporter", influence=10)])
    assert layout.band is None and layout.columns == charts.ATTITUDES


def test_crowded_labels_do_not_overlap_and_markers_keep_their_height() -> None:
    people = [person(f"Person {i}", title="Director", attitude="supporter", influence=50 + (i % 3),
                     roles=["user"], relationship_stage="ally") for i in range(10)]
    layout = charts.power_map_layout(people)
    upi = layout.units_per_inch
    blocks = []
    for p in layout.placements:
        assert p.y == 50 + (p.index % 3)
        height = charts._height_pt(p.lines) / 72 * upi
        blocks.append((p.label_top - height, p.label_top))
    blocks.sort()
    for (_, top), (bottom, _) in zip(blocks, blocks[1:], strict=False):
        assert top <= bottom + 1e-6
    assert layout.ylim[0] <= blocks[0][0] and blocks[-1][1] <= layout.ylim[1]
    assert layout.axes_height_in > 4.6  # grew to fit


def test_marker_follows_the_main_buying_role_and_role_aliases() -> None:
    layout = charts.power_map_layout([person("T", roles=["technical_buyer", "coach"]),
                                      person("U", roles="user_buyer"),
                                      person("E", roles=["coach", "economic_buyer"]),
                                      person("X", roles=[])])
    assert [p.role for p in layout.placements] == ["technical", "user", "economic_buyer", None]
    assert "also coach (insider)" in [line.text for line in layout.placements[0].lines]


def test_label_shows_name_title_and_relationship_stage() -> None:
    layout = charts.power_map_layout([person("Maria Lopez", title="CFO", influence=40, relationship_stage="trusted")])
    assert [line.text for line in layout.placements[0].lines] == ["Maria Lopez · 40%", "CFO",
                                                                 "relationship: trusted"]


# --- scripts -----------------------------------------------------------------------------------

def test_zh_hant_labels_are_traditional() -> None:
    layout = charts.power_map_layout(PEOPLE_ZH, "zh-Hant")
    liu = [line.text for line in layout.placements[0].lines]
    assert liu == ["劉建國 · 60%", "技術總監", "兼內部教練", "關係：信賴"]
    hans = [line.text for line in charts.power_map_layout(PEOPLE_ZH, "zh-Hans").placements[0].lines]
    assert hans == ["刘建国 · 60%", "技术总监", "兼内部教练", "关系：信赖"]


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_text_of_a_zh_hant_chart_is_traditional(name: str) -> None:
    with matplotlib.rc_context(charts.chart_rc()):
        fig = FIGURES[name]("zh-Hant")
        fig.canvas.draw()
        texts = [t.get_text() for t in figure_texts(fig)]
    joined = "\n".join(texts)
    trad, simp = script_counts(joined)
    assert trad > 0 and simp == 0, [t for t in texts if script_counts(t)[1]]


def test_english_chart_has_english_labels() -> None:
    with matplotlib.rc_context(charts.chart_rc()):
        fig = charts.power_map_figure("Acme", PEOPLE_EN, "en")
        texts = {t.get_text() for t in figure_texts(fig)}
    assert {"Opponent", "Neutral", "Supporter", "Attitude unknown", "economic buyer (decides)"} <= texts
    assert not any(script_counts(t) != (0, 0) or "权" in t for t in texts)
