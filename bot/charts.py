"""Pictures for the chat: power map, role-play score card, practice history (PNG bytes).

Rendered with matplotlib's Agg canvas (no display, no pyplot state), in the rep's
language: ``en``, ``zh-Hans`` or ``zh-Hant`` (labels are written once in simplified
Chinese and converted with `bot.language.to_script`). Value labels (buying roles,
attitudes, relationship stages) come from ``bot/content/labels.yml`` via `bot.i18n`.

Chinese needs a CJK font. `chart_font` looks for one explicitly: the file named by
``CHART_FONT``, else the first of `FONT_CANDIDATES` that exists (WenQuanYi Micro Hei
from the Debian package ``fonts-wqy-microhei`` first). Without one it raises
`ChartFontError` instead of drawing empty boxes, and a "Glyph … missing" warning
during rendering is raised as `ChartFontError` too. Characters of user data (names,
titles) that the font lacks, such as emoji, are replaced with "?".

The power map's geometry is computed by `power_map_layout` (no drawing), so it can be
tested on its own: height is influence, columns are opponent — neutral — supporter;
unknown influence goes to a band under the chart and unknown attitude to a fourth
column, so nobody is dropped.
"""
from __future__ import annotations

import io
import os
import re
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import matplotlib
from matplotlib import font_manager, ft2font, patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.textpath import TextToPath
from matplotlib.transforms import blended_transform_factory

from bot import CONTENT_DIR
from bot.i18n import label
from bot.language import base_language, to_script

# ---------------------------------------------------------------------------------------------
# Font

FONT_DIR = CONTENT_DIR / "fonts"
FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),         # apt: fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),           # apt: fonts-wqy-zenhei
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # apt: fonts-noto-cjk
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),  # apt: fonts-droid-fallback
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),         # Fedora / RHEL
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
)
INSTALL_HINT = "apt-get install -y fonts-wqy-microhei"
# A chart font must cover both scripts: these are checked when the font is chosen.
PROBE = "权力地图影响力權力地圖影響力關係認識"


class ChartFontError(RuntimeError):
    """No usable CJK font, or the chosen font lacks a glyph the chart needs."""


@dataclass(frozen=True)
class ChartFont:
    path: Path
    family: str
    codepoints: frozenset


def _candidates() -> list[Path]:
    shipped = sorted(p for p in FONT_DIR.glob("*") if p.suffix.lower() in (".ttf", ".ttc", ".otf")) \
        if FONT_DIR.is_dir() else []
    return shipped + list(FONT_CANDIDATES)


def _load_font(path: Path) -> ChartFont:
    try:
        face = ft2font.FT2Font(str(path))
    except Exception as exc:  # noqa: BLE001 - any FreeType failure means "not usable"
        raise ChartFontError(f"chart font {path} cannot be read: {exc}") from exc
    codepoints = frozenset(face.get_charmap())
    missing = [ch for ch in PROBE if ord(ch) not in codepoints]
    if missing:
        raise ChartFontError(f"chart font {path} has no Chinese glyphs ({''.join(missing)} missing); "
                             f"use a CJK font, e.g. {INSTALL_HINT}")
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    if Path(found).resolve() != path.resolve():
        # Another file claims the same family name; matplotlib would draw with that one.
        same = ft2font.FT2Font(found)
        if not all(ord(ch) in same.get_charmap() for ch in PROBE):
            raise ChartFontError(f"font family {family!r} resolves to {found}, which lacks Chinese glyphs")
    return ChartFont(path, family, codepoints)


@lru_cache(maxsize=1)
def chart_font() -> ChartFont:
    """The CJK font all charts are drawn with (registered with matplotlib on first use).

    Raises:
        ChartFontError: ``CHART_FONT`` names a missing or non-CJK font, or no candidate exists.
    """
    override = os.environ.get("CHART_FONT")
    if override:
        path = Path(override)
        if not path.is_file():
            raise ChartFontError(f"CHART_FONT={override} does not exist")
        return _load_font(path)
    errors = []
    for path in _candidates():
        if path.is_file():
            try:
                return _load_font(path)
            except ChartFontError as exc:
                errors.append(str(exc))
    tried = ", ".join(str(p) for p in _candidates())
    raise ChartFontError("no CJK font for charts: install one (" + INSTALL_HINT + ") or set CHART_FONT "
                         f"to a .ttf/.ttc/.otf file with Chinese glyphs. Tried: {tried}"
                         + (f". Problems: {'; '.join(errors)}" if errors else ""))


def _safe(text: str) -> str:
    """Replaces characters the font lacks (emoji, rare ideographs) with '?'."""
    cps = chart_font().codepoints
    return "".join(ch if ch in "\n\t " or ord(ch) in cps else "?" for ch in text)


# ---------------------------------------------------------------------------------------------
# Texts (simplified Chinese and English; converted per script at render time)

_TEXTS: dict[str, dict[str, str]] = {
    "power_map_title": {"en": "Power map — {account}", "zh": "权力地图——{account}"},
    "power_map_sub": {"en": "{people} · height = influence on the decision · shape = buying role · "
                            "colour = attitude",
                      "zh": "共{people} · 高度＝对决策的影响力 · 形状＝采购角色 · 颜色＝态度"},
    "people": {"en": "{count} people", "zh": "{count}人"},
    "person": {"en": "1 person", "zh": "1人"},
    "influence_axis": {"en": "Influence on the decision (%)", "zh": "对决策的影响力（%）"},
    "influence_unknown": {"en": "influence\nunknown", "zh": "影响力\n未知"},
    "attitude_unknown": {"en": "Attitude unknown", "zh": "态度未知"},
    "role_unknown": {"en": "role not recorded", "zh": "角色未记录"},
    "stage": {"en": "relationship: {stage}", "zh": "关系：{stage}"},
    "also": {"en": "also {roles}", "zh": "兼{roles}"},
    "roles_legend": {"en": "Buying role", "zh": "采购角色"},
    "no_people": {"en": "No people recorded for this account yet", "zh": "这个客户还没有记录任何人"},
    "card_title": {"en": "Score card: {score}/100", "zh": "评分卡：{score}/100"},
    "card_title_named": {"en": "Score card — {title}: {score}/100", "zh": "评分卡——{title}：{score}/100"},
    "questions": {"en": "Your questions by type ({count} questions)", "zh": "你的提问类型（共{count}个问题）"},
    "questions_none": {"en": "Your questions by type (no questions asked)", "zh": "你的提问类型（没有提问）"},
    "question_aim": {"en": "Aim: implication + need-payoff ≥ 40 %, situation ≤ 40 %",
                     "zh": "目标：暗示＋需求效益问题 ≥ 40%，背景问题 ≤ 40%"},
    "share": {"en": "share of your questions (%)", "zh": "占提问的比例（%）"},
    "skills": {"en": "Points per skill (weakest in bold)", "zh": "各项得分（最弱项加粗）"},
    "q_situation": {"en": "Situation", "zh": "背景问题"},
    "q_problem": {"en": "Problem", "zh": "难点问题"},
    "q_implication": {"en": "Implication", "zh": "暗示问题"},
    "q_need_payoff": {"en": "Need-payoff", "zh": "需求效益问题"},
    "history_title": {"en": "Practice history — {count} sessions, latest {latest}/100",
                      "zh": "练习记录——共{count}次，最近一次{latest}分"},
    "history_none": {"en": "No practice sessions yet", "zh": "还没有练习记录"},
    "overall": {"en": "Overall score", "zh": "总分"},
    "session": {"en": "Session", "zh": "练习次序"},
    "score_axis": {"en": "Score (skills as % of their points)", "zh": "得分（分项按满分折算为百分比）"},
}


def _t(key: str, lang: str, **params: Any) -> str:
    entry = _TEXTS[key]
    return to_script(entry.get(base_language(lang), entry["en"]).format(**params), lang)


def _label(kind: str, value: Optional[str], lang: str) -> str:
    return to_script(label(kind, value, lang), lang)


def _user(text: Any, lang: str) -> str:
    """User data (names, titles) as shown: the rep's script, like the chat text."""
    return to_script(str(text).strip(), lang) if text is not None else ""


_BRACKETS = re.compile(r"\s*[(（][^)）]*[)）]")


@lru_cache(maxsize=1)
def _text_to_path() -> TextToPath:
    return TextToPath()


@lru_cache(maxsize=4096)
def _width_pt(text: str, size: float, bold: bool = False) -> float:
    """Width of one line in points, measured with the chart font (no renderer needed)."""
    prop = font_manager.FontProperties(fname=str(chart_font().path), size=size)
    width = _text_to_path().get_text_width_height_descent(text, prop, ismath=False)[0]
    return width + (size * 0.04 * len(text) if bold else 0.0)


def _clip(text: str, size: float, max_pt: float, bold: bool = False) -> str:
    """Cuts one line to at most `max_pt` wide at font size `size`, ending it with an ellipsis."""
    text = " ".join(text.split())
    if _width_pt(text, size, bold) <= max_pt:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if _width_pt(text[:mid].rstrip() + "…", size, bold) <= max_pt:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def _fit(text: str, size: float, max_pt: float) -> str:
    """A label line that fits: explanations in brackets go first, then the end is cut."""
    if _width_pt(text, size) > max_pt:
        text = _BRACKETS.sub("", text)
    return _clip(text, size, max_pt)


def _bold(colour: str = "#222222", width: float = 0.4) -> list[Any]:
    """Pseudo-bold (a thin outline in the text colour): CJK fonts usually ship one weight only."""
    return [patheffects.withStroke(linewidth=width, foreground=colour)]


# ---------------------------------------------------------------------------------------------
# Rendering

DPI = 120
_LOCK = threading.Lock()
INK = "#222222"
MUTED = "#666666"
GRID = "#D9D9D9"


def chart_rc() -> dict[str, Any]:
    """The matplotlib settings every chart is drawn with (use with `matplotlib.rc_context`)."""
    return {
        "font.family": [chart_font().family],
        "font.size": 9,
        "axes.unicode_minus": False,
        "axes.edgecolor": "#999999",
        "axes.labelcolor": INK,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "text.color": INK,
        "legend.frameon": False,
        "path.simplify": True,
    }


def _new_figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _render(build, *args: Any) -> bytes:
    """Builds and saves a figure under the chart font; a missing glyph raises ChartFontError."""
    chart_font()
    with _LOCK, matplotlib.rc_context(chart_rc()), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = build(*args)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    glyphs = [str(w.message) for w in caught if "missing from current font" in str(w.message)]
    if glyphs:
        raise ChartFontError(f"{chart_font().path}: {glyphs[0]} ({len(glyphs)} glyph warnings)")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Power map

ATTITUDES = ("opponent", "neutral", "supporter")
UNKNOWN = "unknown"
ROLE_ORDER = ("economic_buyer", "financial", "technical", "user", "coach")
ROLE_ALIASES = {
    "technical_buyer": "technical", "user_buyer": "user", "financial_buyer": "financial",
    "economic": "economic_buyer", "decision_maker": "economic_buyer",
}
MARKERS = {"economic_buyer": "*", "financial": "D", "technical": "s", "user": "o", "coach": "^", None: "h"}
MARKER_SIZE = {"*": 17.0, "D": 9.0, "s": 10.0, "o": 11.0, "^": 11.0, "h": 11.0}
COLOURS = {"opponent": "#D55E00", "neutral": "#E69F00", "supporter": "#009E73", UNKNOWN: "#8C8C8C"}
TINTS = {"opponent": "#FBEAE1", "neutral": "#FDF4E0", "supporter": "#E1F3EC", UNKNOWN: "#F1F1F1"}

COL_W_IN = 2.35         # width of one attitude column
LEFT_IN, RIGHT_IN = 1.05, 0.15
TOP_IN, BOTTOM_IN = 1.15, 0.95
Y_LO, Y_HI = -4.0, 106.0  # data range of the known-influence area (influence 0..100 plus room for labels)
NAME_PT, LINE_PT = 10.0, 9.0
LINE_STEP = 1.28         # line height as a multiple of the font size
LABEL_GAP_PT = 4.0
MARKER_X, LABEL_X, DODGE_X = 0.13, 0.2, 0.045  # within a column, in column widths
DODGE_SLOTS = 4
LABEL_W_PT = (0.95 - LABEL_X) * COL_W_IN * 72  # room for a label line (measured at 72 dpi)


@dataclass(frozen=True)
class LabelLine:
    text: str
    size: float
    bold: bool = False
    colour: str = INK


@dataclass(frozen=True)
class Placement:
    """Where one person is drawn. `index` is their position in the input list."""

    index: int
    column: str               # opponent / neutral / supporter / unknown
    role: Optional[str]       # the role that picks the marker (None: no known role)
    influence: Optional[int]
    x: float                  # marker, data coordinates
    y: float
    label_x: float
    label_top: float          # top of the label block
    lines: tuple[LabelLine, ...]


@dataclass(frozen=True)
class PowerMapLayout:
    placements: tuple[Placement, ...]
    columns: tuple[str, ...]              # left to right
    band: Optional[tuple[float, float]]   # (bottom, top) of the "influence unknown" band
    ylim: tuple[float, float]
    axes_height_in: float

    @property
    def units_per_inch(self) -> float:
        return (self.ylim[1] - self.ylim[0]) / self.axes_height_in

    def column_x(self, column: str) -> float:
        """Left edge of a column in data coordinates."""
        return float(self.columns.index(column))


def _roles(value: Any) -> list[str]:
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        role = str(item).strip().lower()
        role = ROLE_ALIASES.get(role, role)
        if role and role not in out:
            out.append(role)
    return out


def _influence(value: Any) -> Optional[int]:
    if value is None or value == "":
        return None
    try:
        return max(0, min(100, round(float(value))))
    except (TypeError, ValueError):
        return None


def _attitude(value: Any) -> str:
    value = str(value or "").strip().lower()
    return value if value in ATTITUDES else UNKNOWN


def _label_lines(person: Mapping[str, Any], roles: list[str], primary: Optional[str],
                 influence: Optional[int], lang: str) -> tuple[LabelLine, ...]:
    name = _safe(_user(person.get("name") or "?", lang))
    suffix = f" · {influence}%" if influence is not None else ""
    head = _clip(name, NAME_PT, LABEL_W_PT - _width_pt(suffix, NAME_PT, True), bold=True) + suffix
    lines = [LabelLine(head, NAME_PT, bold=True)]
    title = _safe(_user(person.get("title"), lang))
    if title:
        lines.append(LabelLine(_clip(title, LINE_PT, LABEL_W_PT), LINE_PT))
    others = [r for r in roles if r != primary]
    if others:
        names = _join([_label("buying_role", r, lang) for r in others], lang)
        text = _t("also", lang, roles=names) if primary else names
        lines.append(LabelLine(_fit(_safe(text), LINE_PT, LABEL_W_PT), LINE_PT, colour=MUTED))
    stage = person.get("relationship_stage")
    if stage:
        text = _t("stage", lang, stage=_label("relationship_stage", str(stage), lang))
        lines.append(LabelLine(_fit(_safe(text), LINE_PT, LABEL_W_PT), LINE_PT, colour=MUTED))
    return tuple(lines)


def _join(items: Iterable[str], lang: str) -> str:
    return ("、" if base_language(lang) == "zh" else ", ").join(i for i in items if i)


def _height_pt(lines: Sequence[LabelLine]) -> float:
    return sum(line.size * LINE_STEP for line in lines)


def _spread(desired: Sequence[float], heights: Sequence[float], lo: float, hi: float) -> list[float]:
    """1-D label placement: block centres as close to `desired` as possible, without overlap.

    Blocks keep the order of their desired centres; overlapping ones are merged into a
    cluster placed at the least-squares position, clamped to [lo, hi].
    """
    order = sorted(range(len(desired)), key=lambda i: (desired[i], i))
    clusters: list[dict[str, Any]] = []

    def place(cluster: dict[str, Any]) -> None:
        offsets, acc = [], 0.0
        for i in cluster["members"]:
            offsets.append(acc + heights[i] / 2)
            acc += heights[i]
        cluster["height"] = acc
        bottom = sum(desired[i] - o for i, o in zip(cluster["members"], offsets, strict=True)) / len(offsets)
        cluster["bottom"] = max(lo, min(bottom, hi - acc))
        cluster["offsets"] = offsets

    for i in order:
        cluster = {"members": [i]}
        place(cluster)
        clusters.append(cluster)
        while len(clusters) > 1 and clusters[-2]["bottom"] + clusters[-2]["height"] > clusters[-1]["bottom"] + 1e-9:
            last = clusters.pop()
            clusters[-1]["members"] += last["members"]
            place(clusters[-1])
    centres = [0.0] * len(desired)
    for cluster in clusters:
        for i, o in zip(cluster["members"], cluster["offsets"], strict=True):
            centres[i] = cluster["bottom"] + o
    return centres


def power_map_layout(people: Sequence[Mapping[str, Any]], lang: str = "en") -> PowerMapLayout:
    """Positions of everyone on the power map, without drawing.

    y is the influence (0–100); people with unknown influence share a band below 0.
    Columns run opponent → neutral → supporter (left to right), plus an "attitude
    unknown" column on the right when someone's attitude is not recorded. Markers of
    people at (nearly) the same height in a column are nudged sideways; labels are
    spread vertically so they never overlap, and the figure grows when they need room.
    """
    entries = []
    for index, person in enumerate(people):
        roles = _roles(person.get("roles", person.get("buying_roles")))
        primary = next((r for r in ROLE_ORDER if r in roles), None)
        influence = _influence(person.get("influence"))
        lines = _label_lines(person, roles, primary, influence, lang)
        entries.append({"index": index, "column": _attitude(person.get("attitude")), "role": primary,
                        "influence": influence, "lines": lines,
                        "h_pt": _height_pt(lines) + LABEL_GAP_PT})
    columns = ATTITUDES + ((UNKNOWN,) if any(e["column"] == UNKNOWN for e in entries) else ())

    def stack_pt(known: bool) -> float:
        return max([sum(e["h_pt"] for e in entries if e["column"] == c and (e["influence"] is not None) == known)
                    for c in columns] or [0.0])

    known_in = max(4.6, stack_pt(True) / 72 + 0.3)
    unknown_pt = stack_pt(False)
    band_in = max(0.55, unknown_pt / 72 + 0.12) if unknown_pt else 0.0
    gap_in = 0.22 if band_in else 0.0
    upi = (Y_HI - Y_LO) / known_in
    band = (Y_LO - (gap_in + band_in) * upi, Y_LO - gap_in * upi) if band_in else None
    ylim = (band[0] if band else Y_LO, Y_HI)

    placements: dict[int, Placement] = {}
    for col_no, column in enumerate(columns):
        for known in (True, False):
            group = [e for e in entries if e["column"] == column and (e["influence"] is not None) == known]
            if not group:
                continue
            heights = [e["h_pt"] / 72 * upi for e in group]
            name_h = [NAME_PT * LINE_STEP / 72 * upi for _ in group]
            if known:
                # Name line level with the marker: block centre sits below the influence.
                desired = [e["influence"] - (h - n) / 2 + LABEL_GAP_PT / 144 * upi
                           for e, h, n in zip(group, heights, name_h, strict=True)]
                centres = _spread(desired, heights, Y_LO, Y_HI)
            else:
                # Influence unknown: stack in the band in input order, markers beside their names.
                desired = [band[1] - sum(heights[:k]) - heights[k] / 2 for k in range(len(group))]
                centres = _spread(desired, heights, band[0], band[1])
            taken: list[tuple[float, int]] = []
            for e, centre, h, n in zip(group, centres, heights, name_h, strict=True):
                top = centre + h / 2 - LABEL_GAP_PT / 144 * upi
                y = float(e["influence"]) if known else top - n / 2
                close = {k for yy, k in taken if abs(yy - y) < 0.17 * upi}
                k = next(k for k in range(len(taken) + 1) if k not in close)
                taken.append((y, k))
                x = col_no + MARKER_X - DODGE_X * (k % DODGE_SLOTS)
                placements[e["index"]] = Placement(e["index"], column, e["role"], e["influence"], x, y,
                                                   col_no + LABEL_X, top, e["lines"])
    axes_h = known_in + gap_in + band_in
    return PowerMapLayout(tuple(placements[i] for i in range(len(entries))), columns, band, ylim, axes_h)


def _column_title(column: str, lang: str) -> str:
    if column == UNKNOWN:
        return _t("attitude_unknown", lang)
    text = _label("attitude", column, lang)
    return text[:1].upper() + text[1:]


def power_map_figure(account_name: str, people: Sequence[Mapping[str, Any]], lang: str = "en") -> Figure:
    """The power map as a matplotlib Figure (call under the chart font; see `power_map_png`)."""
    layout = power_map_layout(people, lang)
    ncols = len(layout.columns)
    width = LEFT_IN + ncols * COL_W_IN + RIGHT_IN
    height = TOP_IN + layout.axes_height_in + BOTTOM_IN
    fig = _new_figure(width, height)
    ax = fig.add_axes([LEFT_IN / width, BOTTOM_IN / height, ncols * COL_W_IN / width, layout.axes_height_in / height])
    ax.set_xlim(0, ncols)
    ax.set_ylim(*layout.ylim)
    upi = layout.units_per_inch

    heading = _safe(_t("power_map_title", lang, account=_user(account_name, lang)))
    fig.text(0.18 / width, 1 - 0.2 / height, _clip(heading, 16, (width - 0.4) * 72, bold=True), fontsize=16,
             va="top", path_effects=_bold(INK, 0.8))
    count = _t("person", lang) if len(people) == 1 else _t("people", lang, count=len(people))
    fig.text(0.18 / width, 1 - 0.55 / height, _t("power_map_sub", lang, people=count), fontsize=9.5, color=MUTED,
             va="top")

    header = blended_transform_factory(ax.transData, ax.transAxes)
    for i, column in enumerate(layout.columns):
        ax.axvspan(i + 0.015, i + 0.985, color=TINTS[column], zorder=0, lw=0)
        ax.text(i + 0.5, 1.0 + 0.08 / layout.axes_height_in, _column_title(column, lang), transform=header,
                ha="center", va="bottom", fontsize=12.5, color=COLOURS[column], path_effects=_bold(COLOURS[column]))
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.tick_params(axis="y", labelsize=8.5, length=0)
    ax.grid(axis="y", color="white", lw=1.2, zorder=0.5)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_bounds(0, 100)
    ax.set_ylabel(_t("influence_axis", lang), fontsize=9, labelpad=6)
    if layout.band:
        lo, hi = layout.band
        ax.axhspan(lo, hi, xmin=0.015 / ncols, xmax=1 - 0.015 / ncols, color="white", alpha=0.55, zorder=0.6, lw=0,
                   hatch="////", ec="#DDDDDD")
        ax.set_yticks([0, 20, 40, 60, 80, 100, (lo + hi) / 2])
        ax.set_yticklabels(["0", "20", "40", "60", "80", "100", _t("influence_unknown", lang)])
        ax.axhline(hi + (Y_LO - hi) / 2, color="#BBBBBB", lw=0.8, ls=(0, (4, 3)), zorder=0.7)

    if not people:
        ax.text(ncols / 2, 50, _t("no_people", lang), ha="center", va="center", fontsize=12, color=MUTED)

    for p in layout.placements:
        colour = COLOURS[p.column]
        marker = MARKERS[p.role]
        face = "white" if p.role is None else colour
        ax.plot([p.x], [p.y], marker=marker, ms=MARKER_SIZE[marker], mfc=face, mec="white" if p.role else colour,
                mew=1.0 if p.role else 1.6, ls="none", zorder=4)
        y = p.label_top
        name_mid = y - NAME_PT * LINE_STEP / 72 * upi / 2
        if abs(name_mid - p.y) > 0.06 * upi or p.label_x - p.x > LABEL_X - MARKER_X + 0.01:
            ax.plot([p.x + 0.02, p.label_x - 0.012], [p.y, name_mid], color="#9A9A9A", lw=0.7, zorder=3)
        for line in p.lines:
            step = line.size * LINE_STEP / 72 * upi
            ax.text(p.label_x, y - step / 2, line.text, fontsize=line.size, va="center", ha="left",
                    color=line.colour, zorder=5, path_effects=_bold(line.colour) if line.bold else [])
            y -= step

    handles = []
    for role in ROLE_ORDER + (None,):
        marker = MARKERS[role]
        text = _label("buying_role", role, lang) if role else _t("role_unknown", lang)
        handles.append(Line2D([], [], marker=marker, ls="none", ms=MARKER_SIZE[marker] * 0.85,
                              mfc="white" if role is None else "#555555", mec="#555555", mew=1.2 if role is None else 0,
                              label=text))
    legend_title = _t("roles_legend", lang)
    legend_y = 0.42 / height
    fig.text(0.18 / width, legend_y, legend_title, fontsize=9.5, va="center", color=INK, path_effects=_bold(INK, 0.5))
    fig.legend(handles=handles, loc="center left",
               bbox_to_anchor=((0.18 + _width_pt(legend_title, 9.5, True) / 72 + 0.12) / width, legend_y),
               ncol=6 if base_language(lang) == "zh" else 3, fontsize=9.5, handletextpad=0.3,
               columnspacing=1.6, borderpad=0.0, labelspacing=0.5)
    return fig


def power_map_png(account_name: str, people: Sequence[Mapping[str, Any]], lang: str = "en") -> bytes:
    """The account's power map as PNG bytes.

    Args:
        account_name: shown in the title.
        people: dicts with name, title, roles (buying-role values), attitude, influence
            (0–100) and relationship_stage; any of the last four may be None.
        lang: ``en``, ``zh-Hans`` or ``zh-Hant``.

    Raises:
        ChartFontError: no CJK font is installed (see `chart_font`).
    """
    return _render(power_map_figure, account_name, people, lang)


# ---------------------------------------------------------------------------------------------
# Score card

QUESTION_TYPES = ("situation", "problem", "implication", "need_payoff")
Q_COLOURS = {"situation": "#9A9A9A", "problem": "#0072B2", "implication": "#009E73", "need_payoff": "#009E73"}


def _skill_names(lang: str) -> dict[str, tuple[str, int]]:
    from bot.roleplay.scoring import SKILLS, rubric

    skills = rubric()["skills"]
    key = base_language(lang)
    return {s: (to_script(skills[s].get(key) or skills[s]["en"], lang), int(skills[s]["points"])) for s in SKILLS}


def _field(card: Any, name: str, default: Any = None) -> Any:
    if isinstance(card, Mapping):
        return card.get(name, default)
    return getattr(card, name, default)


def _score_colour(ratio: float) -> str:
    return "#009E73" if ratio >= 0.8 else "#E69F00" if ratio >= 0.5 else "#D55E00"


def score_card_figure(card: Any, lang: str = "en", title: Optional[str] = None) -> Figure:
    """The score card as a matplotlib Figure (call under the chart font; see `score_card_png`)."""
    counts = _field(card, "counts", {}) or {}
    shares = _field(card, "shares", {}) or {}
    points = _field(card, "points", {}) or {}
    total = _field(card, "total", sum(points.values()))
    weakest = _field(card, "weakest")
    skills = _skill_names(lang)
    questions = sum(int(counts.get(f"spin_{q}", 0)) for q in QUESTION_TYPES)

    width, height = 10.4, 4.4
    fig = _new_figure(width, height)
    heading = _t("card_title_named", lang, title=_user(title, lang), score=total) if title \
        else _t("card_title", lang, score=total)
    fig.text(0.18 / width, 1 - 0.18 / height, _clip(_safe(heading), 16, (width - 0.4) * 72, bold=True), fontsize=16,
             va="top", path_effects=_bold(INK, 0.8))

    names = [_t(f"q_{q}", lang) for q in QUESTION_TYPES]
    skill_names = [skills[s][0] for s in skills]
    q_left = 0.2 + max(_width_pt(n, 10) for n in names) / 72 + 0.12
    q_width = 3.55
    s_left = q_left + q_width + 0.75 + max(_width_pt(n, 10, True) for n in skill_names) / 72 + 0.12
    s_width = width - s_left - 0.65
    bottom, axes_h = 0.62 / height, 2.75 / height

    ax = fig.add_axes([q_left / width, bottom, q_width / width, axes_h])
    values = [int(shares.get(q, 0)) for q in QUESTION_TYPES]
    ys = list(range(len(QUESTION_TYPES)))[::-1]
    ax.barh(ys, [100] * len(ys), color="#F0F0F0", height=0.62, zorder=1)
    ax.barh(ys, values, color=[Q_COLOURS[q] for q in QUESTION_TYPES], height=0.62, zorder=2)
    for y, q, v in zip(ys, QUESTION_TYPES, values, strict=True):
        n = int(counts.get(f"spin_{q}", 0))
        inside = v >= 80
        ax.text(v - 1.5 if inside else v + 1.5, y, f"{v}% ({n})", va="center", ha="right" if inside else "left",
                fontsize=10, color="white" if inside else INK, zorder=4)
    ax.set_yticks(ys)
    ax.set_yticklabels(names, fontsize=10)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(_t("share", lang), fontsize=9, color=MUTED)
    ax.set_title(_t("questions", lang, count=questions) if questions else _t("questions_none", lang),
                 fontsize=11.5, loc="left", pad=24, path_effects=_bold(INK, 0.3))
    ax.text(0, 1.04, _t("question_aim", lang), transform=ax.transAxes, fontsize=9, color=MUTED, va="bottom")
    _clean_axes(ax)

    ax2 = fig.add_axes([s_left / width, bottom, s_width / width, axes_h])
    order = list(skills)
    ys = list(range(len(order)))[::-1]
    maxima = [skills[s][1] for s in order]
    got = [int(points.get(s, 0)) for s in order]
    ax2.barh(ys, maxima, color="#F0F0F0", height=0.62, zorder=1)
    colours = [_score_colour(g / m if m else 0) for g, m in zip(got, maxima, strict=True)]
    ax2.barh(ys, got, color=colours, height=0.62, zorder=2)
    for y, g, m in zip(ys, got, maxima, strict=True):
        ax2.text(m + 0.6, y, f"{g}/{m}", va="center", ha="left", fontsize=10, color=INK)
    ax2.set_yticks(ys)
    ax2.set_yticklabels(skill_names, fontsize=10)
    for tick, s in zip(ax2.get_yticklabels(), order, strict=True):
        if s == weakest:
            tick.set_color("#B04A00")
            tick.set_path_effects(_bold("#B04A00"))
    ax2.set_xlim(0, max(maxima) * 1.2)
    ax2.set_xticks([0, 10, 20, 30])
    ax2.set_title(_t("skills", lang), fontsize=11.5, loc="left", pad=24, path_effects=_bold(INK, 0.3))
    _clean_axes(ax2)
    return fig


def _clean_axes(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=8)


def score_card_png(card: Any, lang: str = "en", title: Optional[str] = None) -> bytes:
    """A role-play score card (a `bot.roleplay.scoring.ScoreCard`, or a dict with its fields) as PNG.

    Left: the share of each SPIN question type with its count; right: points per skill
    out of the rubric's maximum, the weakest skill in bold. `title` (the scenario) is
    added to the heading when given.
    """
    return _render(score_card_figure, card, lang, title)


# ---------------------------------------------------------------------------------------------
# Practice history

SKILL_STYLE = (("#0072B2", "o"), ("#E69F00", "s"), ("#56B4E9", "D"), ("#CC79A7", "^"), ("#009E73", "v"),
               ("#D55E00", "P"))


def _wrap2(text: str, size: float, max_pt: float) -> str:
    """Up to two lines of at most `max_pt`, breaking Latin text at a space; the rest is cut."""
    text = " ".join(text.split())
    if _width_pt(text, size) <= max_pt:
        return text
    first = _clip(text, size, max_pt)[:-1]
    if " " in first and not text[len(first):len(first) + 1].isspace():
        first = first[:first.rindex(" ")] if first.rindex(" ") > 0 else first
    return first.rstrip() + "\n" + _clip(text[len(first):].strip(), size, max_pt)


def practice_history_figure(rows: Sequence[Mapping[str, Any]], lang: str = "en") -> Figure:
    """The practice history as a matplotlib Figure (call under the chart font)."""
    skills = _skill_names(lang)
    n = len(rows)
    width, height = 10.4, 4.7
    fig = _new_figure(width, height)
    latest = int(rows[-1].get("score") or 0) if rows else 0
    fig.text(0.18 / width, 1 - 0.18 / height, _t("history_title", lang, count=n, latest=latest) if rows else
             _t("history_none", lang), fontsize=16, va="top", path_effects=_bold(INK, 0.8))
    axes_w = 6.1
    titled = 0 < n <= 10
    bottom = 0.95 if titled else 0.7
    ax = fig.add_axes([0.8 / width, bottom / height, axes_w / width, (height - bottom - 0.85) / height])
    colon = "：" if base_language(lang) == "zh" else ": "

    def legend_text(name: str, values: list[int]) -> str:
        if not values:
            return name
        return f"{name}{colon}{values[0]} → {values[-1]}" if n > 1 else f"{name}{colon}{values[0]}"

    xs = list(range(1, n + 1))
    show_markers = n <= 25
    for k, skill in enumerate(skills):
        colour, marker = SKILL_STYLE[k % len(SKILL_STYLE)]
        values = [_influence((r.get("skills") or {}).get(skill, 0)) or 0 for r in rows]
        # Equal series would hide each other: a fixed offset of about a point per skill keeps them visible.
        nudge = (k - (len(skills) - 1) / 2) * 1.5
        ax.plot(xs, [v + nudge for v in values], color=colour, lw=1.5, marker=marker if show_markers else None,
                ms=5, label=legend_text(skills[skill][0], values), zorder=3, alpha=0.95)
    scores = [int(r.get("score") or 0) for r in rows]
    ax.plot(xs, scores, color=INK, lw=3, marker="o" if show_markers else None, ms=7,
            label=legend_text(_t("overall", lang), scores), zorder=4)
    if 0 < n <= 25:
        for x, value in zip(xs, scores, strict=True):
            ax.annotate(str(value), (x, value), textcoords="offset points", xytext=(0, 9), ha="center", fontsize=10,
                        color=INK, zorder=5, path_effects=[patheffects.withStroke(linewidth=3, foreground="white")])
    if not n:
        ax.text(0.5, 0.5, _t("history_none", lang), transform=ax.transAxes, ha="center", va="center", fontsize=12,
                color=MUTED)
    ax.set_ylim(-5, 110)
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_xlim(0.6, max(n, 1) + 0.4)
    if titled:
        room = axes_w * 72 / (n + 0.2) - 6
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{i}\n" + _wrap2(_safe(_user(r.get("title") or "", lang)), 8.5, room)
                            for i, r in zip(xs, rows, strict=True)], fontsize=8.5)
    else:
        step = max(1, -(-n // 12))
        ax.set_xticks(xs[::step] if n else [])
    ax.set_xlabel(_t("session", lang), fontsize=9.5, color=MUTED)
    ax.set_ylabel(_t("score_axis", lang), fontsize=9, color=MUTED)
    ax.grid(axis="y", color=GRID, lw=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0, labelsize=9)
    handles, labels_ = ax.get_legend_handles_labels()
    order = [len(handles) - 1] + list(range(len(handles) - 1))
    ax.legend([handles[i] for i in order], [labels_[i] for i in order], loc="upper left",
              bbox_to_anchor=(1.03, 1.0), fontsize=10, handlelength=2.2, labelspacing=0.75)
    return fig


def practice_history_png(rows: Sequence[Mapping[str, Any]], lang: str = "en") -> bytes:
    """Overall score and each skill (0–100) across sessions, oldest first, as PNG.

    Args:
        rows: ``[{"score": int, "skills": {skill: 0..100}, "title": str}]`` oldest first
            (what `actions.roleplay.ActionPracticeHistory` builds).
        lang: ``en``, ``zh-Hans`` or ``zh-Hant``.
    """
    return _render(practice_history_figure, rows, lang)
