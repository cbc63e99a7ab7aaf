"""What every chart shares: the colours, the font, the layout every figure gets (``_layout``,
and ``_layout_dict`` for figures written as plain dicts), ``_Drawn`` (a finished figure held as
its dict, with the template cache behind it), labels from users and segment keys, the case's
dated events on a month axis, and money on an axis (万元 / 亿元 in Chinese, as the cards write
it). No figure of its own: the other modules of ``crmsim.charts`` build on these."""

from __future__ import annotations

import functools

import plotly.graph_objects as go
import plotly.io as pio

from crmsim.i18n import Lang, t
from crmsim.money import axis_title, axis_unit, currency_name

PALETTE = [  # Plotly's default qualitative colours
    "#636efa",
    "#EF553B",
    "#00cc96",
    "#ab63fa",
    "#FFA15A",
    "#19d3f3",
    "#FF6692",
    "#B6E880",
    "#FF97FF",
    "#FECB52",
]
STAGE_COLOURS = ("#9ecae1", "#4292c6", "#2171b5", "#fd8d3c", "#bdbdbd")
FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
DASHES = ("solid", "dash", "dot", "dashdot")


def _layout(fig: go.Figure, title: str, x: str = "", y: str = "", **kw) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        xaxis_title=x,
        yaxis_title=y,
        font={"family": FONT},
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        # the chart's toolbar down the right edge, not over the title (on a phone it covered it)
        modebar={"orientation": "v"},
        **kw,
    )
    return fig


class _Drawn(go.Figure):
    """A finished figure held as the plain dict Plotly would make of it, for Streamlit to
    draw: Streamlit takes a Plotly figure by asking for its dict. Building a ``go.Figure``
    (an object per trace and property) and asking it (a deep copy of everything, Streamlit's
    theme template included) was 10-12 ms of the 12-14 ms a classroom figure cost, in each
    of 60 open tabs after a reveal. Nothing of Plotly is built, so only ``to_dict`` works:
    draw it, do not change it. The layout gets the current default template (Streamlit's
    theme, in the app), as ``go.Figure`` would. tests/classroom/test_results.py checks that
    ``go.Figure`` takes each such dict unchanged, so a wrong property still fails there."""

    def __init__(self, traces: list[dict], layout: dict):  # no super().__init__(): see above
        self._made = {"data": traces, "layout": {"template": _template(), **layout}}

    def to_dict(self) -> dict:
        return self._made


def _template() -> dict:
    """The default Plotly template as a dict, made once per template (shared, not copied)."""
    return _template_named(pio.templates.default)


@functools.lru_cache(maxsize=4)
def _template_named(name: str) -> dict:
    return pio.templates[name].to_plotly_json()


def _unchecked(traces: list[dict], layout: dict) -> go.Figure:
    """A figure from plain trace and layout dicts written in ``crmsim.charts``, drawn as they
    are (``_Drawn``): after a reveal every open classroom tab draws its own figure."""
    return _Drawn(traces, layout)


def _layout_dict(title: str, x: str = "", y: str = "", **kw) -> dict:
    """``_layout``'s settings as a plain layout dict (for figures built in one call)."""
    return {
        "title": {"text": title, "x": 0.01},
        "xaxis": {"title": {"text": x}},
        "yaxis": {"title": {"text": y}},
        "font": {"family": FONT},
        "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        "legend": {"orientation": "h", "y": -0.18},
        "modebar": {"orientation": "v"},
        **kw,
    }


def plain_label(text: object) -> str:
    """A user's text (a team name) for a chart label: Plotly reads tags such as ``<a>``,
    ``<b>`` and ``<span style>`` in labels, so ``&``, ``<`` and ``>`` are escaped."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def segment_label(key: str, lang: Lang) -> str:
    """A segment key as students read it (courseware terms; clusters and rule names as is)."""
    if key.startswith("cluster_"):
        return t("seg.cluster", lang, n=key.split("_", 1)[1])
    text = t(f"seg.{key}", lang)
    return key if text == f"seg.{key}" else text


def _rgba(colour: str, alpha: float) -> str:
    c = colour.lstrip("#")
    return f"rgba({int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha})"


def mark_events(fig: go.Figure, events: list[dict] | tuple = (), lang: Lang = "zh") -> go.Figure:
    """Mark the case's dated events (``SimResult.meta["events"]``) on a chart whose x axis is
    the month: one dashed line per month, the titles of that month's events beside it."""
    titles: dict[int, list[str]] = {}
    for ev in events:
        title = ev["title_zh"] if lang == "zh" else ev["title_en"]
        if title not in titles.setdefault(int(ev["month"]), []):
            titles[int(ev["month"])].append(title)
    for i, (month, names) in enumerate(sorted(titles.items())):
        fig.add_vline(
            x=month,
            line={"dash": "dash", "color": "grey"},
            annotation_text=" / ".join(names),
            annotation_position="top right" if i % 2 == 0 else "bottom right",
            annotation_font_size=11,
            annotation_bgcolor="rgba(255,255,255,0.75)",  # readable on a dark heatmap too
        )
    return fig


def _money_scale(values, currency: str, lang: Lang) -> tuple[float, str, str]:
    """The divisor, the axis title and the hover suffix for money: 万元 / 亿元 in Chinese, as
    the cards write it (not 0.2M or 500k), the currency's sign in English."""
    size, unit = axis_unit(values, lang)
    title = axis_title(currency, lang, unit)
    name = currency_name(currency, lang) if currency else ""
    suffix = f"{unit}{name}" if lang == "zh" else ""
    return size, title, suffix
