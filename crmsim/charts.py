"""Plotly figure builders: data in, ``go.Figure`` out, every label through ``t()``.

No Streamlit here (DESIGN §2). Builders use ``plotly.graph_objects`` (a figure in ~2 ms,
where plotly express takes ~60 ms) and draw at most ``MAX_POINTS`` markers.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from crmsim.i18n import Lang, t
from crmsim.model.month import FAST, HAZARD_TERMS, RESOLVED, SILENT, UNRESOLVED
from crmsim.model.state import N_STAGES, STAGE_NAMES
from crmsim.money import axis_title, axis_unit, currency_name, currency_sign, money

MAX_POINTS = 3_000  # a scatter draws at most this many (software WebGL: ~1.4 s for 10,000)
# The scatter's Plotly config: WebGL canvases at one pixel per screen pixel. Plotly draws them
# at twice the size by default, four times the pixels to fill and, in software rendering, to
# copy back for every frame: a new scatter settled in ~0.5 s instead of ~0.95 s (measured in
# headless Chromium). Points stay as sharp as the axes on a 1x screen; on a 2x screen they are
# slightly soft, which a cloud of 3,000 markers does not suffer from.
SCATTER_CONFIG = {"plotGlPixelRatio": 1}
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
    """A figure from plain trace and layout dicts written in this module, drawn as they
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


def pareto_curve(values: np.ndarray, lang: Lang) -> go.Figure:
    """Whale curve: cumulative share of revenue against share of customers (the 80/20 rule)."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    total = v.sum() or 1.0
    step = max(len(v) // 500, 1)  # 500 points draw the curve exactly enough
    cum = np.concatenate([[0.0], np.cumsum(v)[::step] / total, [1.0]])
    x = np.concatenate([[0.0], np.arange(1, len(v) + 1)[::step] / len(v), [1.0]])
    top = float(np.cumsum(v)[max(round(0.2 * len(v)) - 1, 0)] / total) if len(v) else 0.0
    fig = go.Figure(go.Scatter(x=x, y=cum, mode="lines", name=t("chart.cum_revenue", lang)))
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot"}, name=t("chart.equal_line", lang)
        )
    )
    fig.add_annotation(
        x=0.2, y=top, text=t("chart.top20_note", lang, share=f"{top:.0%}"), showarrow=True
    )
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(tickformat=".0%")
    return _layout(
        fig,
        t("chart.pareto_title", lang),
        t("chart.share_customers", lang),
        t("chart.share_revenue", lang),
    )


def stage_mix(counts: dict[str, float], lang: Lang) -> go.Figure:
    """Customers by lifecycle stage (考察期 / 形成期 / 稳定期 / 退化期)."""
    keys = [k for k in STAGE_NAMES[:4]]
    fig = go.Figure(
        go.Bar(
            x=[t(f"stage.{k}", lang) for k in keys],
            y=[counts.get(k, 0) for k in keys],
            marker_color=list(STAGE_COLOURS[:4]),
        )
    )
    return _layout(fig, t("chart.stage_mix_title", lang), "", t("chart.customers", lang))


PYRAMID_METHODS = ("pyramid", "abc", "clv")  # value tiers, most valuable first


def segment_chart(profile: pd.DataFrame, method: str, lang: Lang) -> go.Figure:
    """The customer pyramid for a value-tier segmentation (pyramid, ABC, CLV tiers); for the
    others (RFM, k-means, rules), whose groups are not tiers, each segment's share of customers
    beside its share of revenue."""
    return pyramid(profile, lang) if method in PYRAMID_METHODS else segment_shares(profile, lang)


def pyramid(profile: pd.DataFrame, lang: Lang) -> go.Figure:
    """Customer pyramid: value tiers stacked from the most valuable (top) down, each bar as wide
    as the tier's share of customers, labelled with its share of customers and of revenue."""
    prof = profile.reset_index(drop=True)
    n = len(prof)
    widest = max(float(prof["share"].max()), 1e-9) if n else 1.0
    fig = go.Figure()
    for i, row in prof.iterrows():
        width = max(float(row["share"]) / widest, 0.02)
        label = segment_label(row["segment"], lang)
        fig.add_trace(
            go.Bar(
                y=[n - i],
                x=[width],
                base=[-width / 2],
                orientation="h",
                showlegend=False,
                name=label,
                marker_color=PALETTE[i % len(PALETTE)],
                hoverinfo="text",
                hovertext=[label],
            )
        )
        fig.add_annotation(  # beside the bar: a narrow top tier has no room inside
            x=width / 2 + 0.03,
            y=n - i,
            xanchor="left",
            showarrow=False,
            text=t(
                "chart.pyramid_label",
                lang,
                segment=label,
                share=f"{row['share']:.0%}",
                revenue=f"{row['revenue_share']:.0%}",
            ),
        )
    fig.update_xaxes(visible=False, range=[-0.55, 1.6])
    fig.update_yaxes(visible=False)
    return _layout(fig, t("chart.pyramid_title", lang), bargap=0.05)


def segment_shares(profile: pd.DataFrame, lang: Lang) -> go.Figure:
    """Each segment's share of customers and of revenue, side by side."""
    prof = profile.reset_index(drop=True)
    names = [segment_label(s, lang) for s in prof["segment"]]
    fig = go.Figure()
    for col, key, colour in (
        ("share", "chart.share_of_customers", "#9ecae1"),
        ("revenue_share", "chart.share_of_revenue", "#2171b5"),
    ):
        fig.add_trace(
            go.Bar(
                y=names,
                x=prof[col],
                orientation="h",
                name=t(key, lang),
                marker_color=colour,
                text=[f"{v:.0%}" for v in prof[col]],
                textposition="outside",
            )
        )
    top = float(max(prof["share"].max(), prof["revenue_share"].max())) if len(prof) else 1.0
    fig.update_xaxes(tickformat=".0%", range=[0, top * 1.2])  # room for the labels
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, t("chart.segment_shares_title", lang), barmode="group")


def rfm_heatmap(scores: pd.DataFrame, monetary: np.ndarray, lang: Lang) -> go.Figure:
    """Mean monthly spend by recency score (rows) and frequency score (columns)."""
    df = pd.DataFrame(
        {
            "R": scores["R"].to_numpy(),
            "F": scores["F"].to_numpy(),
            "M": np.asarray(monetary, dtype=float),
        }
    )
    grid = df.pivot_table(index="R", columns="F", values="M", aggfunc="mean")
    grid = grid.reindex(index=range(1, 6), columns=range(1, 6))
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=list(grid.columns),
            y=list(grid.index),
            colorscale="Blues",
            colorbar={"title": t("chart.mean_spend", lang)},
        )
    )
    return _layout(
        fig, t("chart.rfm_title", lang), t("chart.f_score", lang), t("chart.r_score", lang)
    )


def retention_curves(km: pd.DataFrame, lang: Lang, events: list[dict] | tuple = ()) -> go.Figure:
    """Kaplan–Meier survival by segment (columns segment, month, survival)."""
    fig = go.Figure()
    for seg, g in km.groupby("segment", sort=False):
        fig.add_trace(
            go.Scatter(
                x=g["month"],
                y=g["survival"],
                mode="lines",
                name=segment_label(str(seg), lang),
                line={"shape": "hv"},
            )
        )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    mark_events(fig, events, lang)
    return _layout(
        fig,
        t("chart.retention_title", lang),
        t("chart.month", lang),
        t("chart.still_customers", lang),
    )


def satisfaction_heatmap(
    sat_hist: np.ndarray, lang: Lang, events: list[dict] | tuple = ()
) -> go.Figure:
    """Satisfaction distribution over time: month × 20 bins, each month's shares."""
    h = np.asarray(sat_hist, dtype=float)
    share = h / np.maximum(h.sum(axis=1, keepdims=True), 1)
    centres = (np.arange(h.shape[1]) + 0.5) / h.shape[1]
    fig = go.Figure(
        go.Heatmap(
            z=share.T,
            x=np.arange(1, h.shape[0] + 1),
            y=centres,
            colorscale="Viridis",
            zmin=0,
            colorbar={"title": t("chart.share", lang), "tickformat": ".0%"},
        )
    )
    for y in (0.5, 0.85):
        fig.add_hline(y=y, line={"dash": "dot", "color": "white", "width": 2})
    for y, key in (
        (0.25, "chart.zone_defection"),
        (0.675, "chart.zone_indifference"),
        (0.93, "chart.zone_affection"),
    ):  # dark text on a light box: readable on the dark end of the colour scale too
        fig.add_annotation(
            x=0.01,
            xref="paper",
            y=y,
            xanchor="left",
            showarrow=False,
            text=t(key, lang),
            font={"color": "#222", "size": 12},
            bgcolor="rgba(255,255,255,0.85)",
            borderpad=3,
        )
    mark_events(fig, events, lang)
    return _layout(
        fig,
        t("chart.satisfaction_title", lang),
        t("chart.month", lang),
        t("chart.satisfaction", lang),
    )


def _rgba(colour: str, alpha: float) -> str:
    c = colour.lstrip("#")
    return f"rgba({int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha})"


def stage_sankey(transitions: np.ndarray, lang: Lang) -> go.Figure:
    """Lifecycle flows over the run: stage at the start of a month → stage at its end
    (staying put is left out so the moves are visible). Each flow has its source stage's
    colour; nodes and flows carry their counts."""
    total = np.asarray(transitions).sum(axis=0)
    src, dst, val = [], [], []
    for i in range(4):
        for j in range(N_STAGES):
            if i != j and total[i, j] > 0:
                src.append(i)
                dst.append(N_STAGES + j)
                val.append(int(total[i, j]))
    out = np.zeros(N_STAGES, int)
    into = np.zeros(N_STAGES, int)
    for a, b, v in zip(src, dst, val, strict=True):
        out[a] += v
        into[b - N_STAGES] += v
    names = [t(f"stage.{k}", lang) for k in STAGE_NAMES]
    moves = t("chart.sankey_moves", lang)
    labels = [f"{name} · {out[k]:,} {moves}" for k, name in enumerate(names)] + [
        f"{name} · {into[k]:,}" for k, name in enumerate(names)
    ]
    fig = go.Figure(
        go.Sankey(
            valueformat=",d",
            node={
                "label": labels,
                "color": list(STAGE_COLOURS) * 2,
                "pad": 18,
                "line": {"color": "#555", "width": 0.5},
            },
            link={
                "source": src,
                "target": dst,
                "value": val,
                "color": [_rgba(STAGE_COLOURS[a], 0.45) for a in src],
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,d}<extra></extra>",
            },
        )
    )
    return _layout(fig, t("chart.sankey_title", lang))


def cohort_heatmap(cohorts: pd.DataFrame, lang: Lang) -> go.Figure:
    """Share of each entry cohort still active, by months since joining."""
    grid = cohorts.pivot_table(index="cohort", columns="age", values="retention")
    names = [
        t("chart.cohort_start", lang) if c == 0 else t("chart.cohort_month", lang, m=c)
        for c in grid.index
    ]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=list(grid.columns),
            y=names,
            colorscale="Greens",
            zmin=0,
            zmax=1,
            colorbar={"title": t("chart.share", lang), "tickformat": ".0%"},
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, t("chart.cohort_title", lang), t("chart.months_since_joining", lang))


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


def money_over_time(
    monthly: pd.DataFrame, events: list[dict], lang: Lang, currency: str = ""
) -> go.Figure:
    """Revenue, service cost and profit by month, with the case's events marked (money in
    万/亿 in Chinese, as on the cards)."""
    cols = ("revenue", "service_cost", "profit")
    size, title, suffix = _money_scale(monthly[list(cols)].to_numpy(), currency, lang)
    fig = go.Figure()
    for col in cols:
        fig.add_trace(
            go.Scatter(
                x=monthly["month"],
                y=monthly[col] / size,
                mode="lines",
                name=t(f"kpi.{col}", lang),
                hovertemplate=f"%{{y:,.2f}}{suffix}<extra>%{{fullData.name}}</extra>",
            )
        )
    if lang != "zh":
        fig.update_yaxes(tickprefix=currency_sign(currency))
    mark_events(fig, events, lang)
    return _layout(fig, t("chart.money_title", lang), t("chart.month", lang), title)


def complaints_over_time(
    monthly: pd.DataFrame, lang: Lang, events: list[dict] | tuple = ()
) -> go.Figure:
    """How complaints ended, month by month (bars, left axis), and the service failures nobody
    complained about (a line on its own right axis: they are many times the complaints and
    would hide how the complaints ended)."""
    fig = go.Figure()
    resolved = monthly["resolved"].to_numpy(float)
    fast = monthly["resolved_fast"].to_numpy(float) if "resolved_fast" in monthly else 0 * resolved
    for values, key, colour in (
        (monthly["unresolved"].to_numpy(float), "chart.unresolved", "#d62728"),
        (resolved - fast, "chart.resolved_slow", "#9ecae1"),
        (fast, "chart.resolved_fast", "#2ca02c"),
    ):
        fig.add_trace(go.Bar(x=monthly["month"], y=values, name=t(key, lang), marker_color=colour))
    fig.add_trace(
        go.Scatter(
            x=monthly["month"],
            y=monthly["silent"],
            mode="lines",
            name=t("chart.silent_axis", lang),
            line={"color": "#7f7f7f", "dash": "dot"},
            yaxis="y2",
        )
    )
    mark_events(fig, events, lang)
    fig.update_layout(
        yaxis2={
            "title": t("chart.silent_axis", lang),
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
            "tickformat": ",.0f",
            # Plotly.js 3 gives an overlaying axis the left axis's grid ("sync": 53, 105, 158…)
            "tickmode": "auto",
        }
    )
    fig = _layout(
        fig,
        t("chart.complaints_title", lang),
        t("chart.month", lang),
        t("chart.complaints_axis", lang),
        barmode="stack",
    )
    fig.update_layout(margin={"r": 60})
    return fig


def customer_timeline(sample: dict, position: int, lang: Lang) -> go.Figure:
    """One sampled customer month by month: satisfaction, loyalty, stage, complaint outcomes."""
    s = sample["S"][:, position]
    months = np.arange(1, len(s) + 1)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=months, y=s, mode="lines+markers", name=t("chart.satisfaction", lang))
    )
    fig.add_trace(
        go.Scatter(
            x=months, y=sample["L"][:, position], mode="lines", name=t("chart.loyalty", lang)
        )
    )
    stage = sample["stage"][:, position]
    # a customer's months, up to and including the month she left; blank afterwards
    gone = stage == N_STAGES - 1
    shown = (stage >= 0) & ~(gone & np.concatenate([[False], gone[:-1]]))
    for k in np.unique(stage[shown]):  # one legend entry per stage, so each colour is named
        months_k = months[shown & (stage == k)]
        name = t(f"stage.{STAGE_NAMES[k]}", lang)
        fig.add_trace(
            go.Scatter(
                x=months_k,
                y=np.full(len(months_k), -0.08),
                mode="markers",
                name=name,
                marker={"color": STAGE_COLOURS[k], "symbol": "square", "size": 9},
                hovertext=[f"{name} · {t('chart.month', lang)} {m}" for m in months_k],
                hoverinfo="text",
            )
        )
    code = sample["complaint"][:, position]  # crmsim.model.month: SILENT … FAST
    for values, key, symbol in (
        ((RESOLVED, FAST), "chart.resolved", "circle"),
        ((UNRESOLVED,), "chart.unresolved", "x"),
        ((SILENT,), "chart.silent", "triangle-down"),
    ):
        hit = np.isin(code, values)
        if hit.any():
            fig.add_trace(
                go.Scatter(
                    x=months[hit],
                    y=s[hit],
                    mode="markers",
                    name=t(key, lang),
                    marker={"symbol": symbol, "size": 11},
                )
            )
    fig.update_yaxes(range=[-0.15, 1.02])
    return _layout(fig, t("chart.timeline_title", lang), t("chart.month", lang))


def _sigmoid(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


def churn_push(terms: np.ndarray, average: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Her monthly churn probability in the month she left; what it would have been with her
    own base propensity (frailty) but every other part of the risk at the average active
    customer's of that month; and how many percentage points each part added over the
    average's (frailty itself: 0, it is the starting point).

    The parts add on the logit scale; each part's share of the gap in probability is its share
    of the gap in logit (the chord between the two points of the σ curve), so the pushes add up
    exactly to the difference of the two probabilities. (Frailty is left out of the comparison:
    an average of logit frailty belongs to nobody — with Beta frailty it is far below the
    typical customer's — and it is not something a plan can change.)"""
    mine = np.asarray(terms, float)
    like_average = np.asarray(average, float).copy()
    like_average[0] = mine[0]
    gap = mine - like_average
    p_mine, p_avg = _sigmoid(mine.sum()), _sigmoid(like_average.sum())
    total = gap.sum()
    slope = p_mine * (1 - p_mine) if abs(total) < 1e-9 else (p_mine - p_avg) / total
    return p_mine, p_avg, gap * slope * 100


def churn_reasons(terms: np.ndarray, average: np.ndarray, lang: Lang) -> go.Figure:
    """Why a customer left: for each part of her churn risk, how many percentage points of
    monthly churn probability it added (red) or took away (green) compared with the average
    active customer in the month she left, the biggest pushes first."""
    p_mine, p_avg, push = churn_push(terms, average)
    order = [k for k in np.argsort(-np.abs(push)) if k != 0]  # 0: her own base propensity
    names = [t(f"term.{HAZARD_TERMS[k]}", lang) for k in order]
    values = push[order]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            marker_color=["#d62728" if v > 0 else "#2ca02c" for v in values],
            text=[f"{v:+.2f}" for v in values],  # the unit is on the axis (phones cut long labels)
            textposition="outside",
            hovertext=[
                t(
                    "chart.push_above" if v > 0 else "chart.push_below",
                    lang,
                    term=n,
                    pp=f"{abs(v):.2f}",
                )
                for n, v in zip(names, values, strict=True)
            ],
            hoverinfo="text",
        )
    )
    fig.add_vline(x=0, line={"color": "grey"})
    fig.update_yaxes(autorange="reversed")
    span = max(float(np.abs(values).max()) if len(values) else 0.0, 0.1) * 1.45
    fig.update_xaxes(range=[-span, span])
    fig = _layout(fig, t("chart.reasons_title3", lang), t("chart.reasons_axis2", lang))
    sub = t("chart.reasons_sub", lang, mine=f"{p_mine:.1%}", average=f"{p_avg:.1%}")
    fig.update_layout(title_subtitle_text=sub, margin={"t": 75, "b": 60})
    return fig


def churn_reason_words(terms: np.ndarray, average: np.ndarray, lang: Lang, top: int = 3) -> str:
    """Her probability against the average customer's, and the biggest pushes, in sentences."""
    p_mine, p_avg, push = churn_push(terms, average)
    base = t("chart.reasons_base2", lang, mine=f"{p_mine:.1%}", average=f"{p_avg:.1%}")
    above = [k for k in np.argsort(-push) if k != 0 and push[k] >= 0.005][:top]
    if not above or p_mine <= p_avg:  # better than average on the whole: propensity and luck
        return base + t("chart.reasons_none", lang)
    parts = [
        t("chart.reason_part", lang, term=t(f"term.{HAZARD_TERMS[k]}", lang), pp=f"{push[k]:.2f}")
        for k in above
    ]
    joined = ("、" if lang == "zh" else ", ").join(parts)
    return base + t("chart.reasons_words", lang, parts=joined)


def stratified_sample(labels: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """At most ``k`` row numbers, sorted, drawn within each segment in proportion to its size
    (every segment keeps at least one point, so a small one never vanishes), seeded."""
    labels = np.asarray(labels)
    n = len(labels)
    if n <= k:
        return np.arange(n)
    gen = np.random.default_rng(seed)
    groups = [np.flatnonzero(labels == g) for g in np.unique(labels)]
    quota = np.array([len(g) for g in groups], float) * k / n
    take = np.maximum(np.floor(quota).astype(int), 1)
    for j in np.argsort(-(quota - np.floor(quota)))[: max(k - int(take.sum()), 0)]:
        take[j] += 1  # the largest remainders get the points left over
    picked = [
        gen.choice(g, min(m, len(g)), replace=False) for g, m in zip(groups, take, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def scatter_customers(
    frame: pd.DataFrame,
    x: str,
    y: str,
    labels: np.ndarray,
    names: list[str],
    lang: Lang,
    seed: int = 0,
    axes: Sequence[str] = (),
) -> go.Figure:
    """Customers as points coloured by segment; at most ``MAX_POINTS`` drawn (a sample
    stratified by segment), each point carrying its row index for selection.

    With ``axes``, two menus over the chart switch the horizontal and vertical axis among
    those columns in the browser: the chart stays the same chart, so a new axis needs no
    rerun and no new WebGL context (~1.5 s in software rendering), and a selection keeps
    the axes it was drawn on."""
    idx = stratified_sample(np.asarray(labels), MAX_POINTS, seed)
    lab = np.asarray(labels)[idx]
    colors = np.array(PALETTE * (len(names) // len(PALETTE) + 1))[: len(names)]
    # One WebGL trace for every point (each trace costs the browser a draw of its own: five
    # traces took ~1 s to redraw in software rendering, one ~0.2 s), coloured by segment; the
    # legend comes from empty per-segment entries.
    fig = go.Figure(
        go.Scattergl(
            x=frame[x].to_numpy()[idx],
            y=frame[y].to_numpy()[idx],
            mode="markers",
            customdata=idx,
            marker={
                "size": 5,
                "opacity": 0.7,
                # segment numbers on a stepped colour scale: numbers validate fast, a list of
                # 10,000 colour strings does not
                "color": lab.astype(np.int16),
                "colorscale": [
                    [edge, str(c)]
                    for i, c in enumerate(colors)
                    for edge in (i / len(colors), (i + 1) / len(colors))
                ],
                "cmin": -0.5,
                "cmax": len(colors) - 0.5,
            },
            showlegend=False,
            hovertemplate="%{x}, %{y}<extra></extra>",
        )
    )
    for s, name in enumerate(names):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=segment_label(name, lang),
                marker={"size": 8, "color": str(colors[s])},
            )
        )
    # The modes Streamlit gives a chart with box and lasso selection, set here: when the figure
    # lacks them Streamlit adds them after the chart is drawn, and Plotly draws it all again.
    fig = _layout(
        fig,
        t("chart.scatter_title", lang),
        t(f"col.{x}", lang),
        t(f"col.{y}", lang),
        dragmode="select",
        clickmode="event",
        hovermode="closest",
    )
    if len(axes) > 1:
        columns = {}  # the drawn rows of each offered column, for both menus
        for col in axes:
            values = frame[col].to_numpy()[idx]
            columns[col] = values.round(2) if values.dtype.kind == "f" else values  # as hovered
        fig.update_layout(
            updatemenus=[  # one above the other, so they never overlap on a phone
                _axis_menu(columns, "x", x, 1.19, lang),
                _axis_menu(columns, "y", y, 1.0, lang),
            ],
            margin={"t": 150, "b": 70},
            height=520,
            title={"y": 0.98, "yanchor": "top"},
            legend={"orientation": "h", "y": -0.3},  # below the axis title on a phone too
        )
    return fig


def _axis_menu(columns: dict[str, np.ndarray], axis: str, now: str, at: float, lang: Lang) -> dict:
    """A dropdown that puts one of ``columns`` on ``axis`` of the points trace (trace 0 only:
    the legend entries hold no data)."""
    which = t(f"seg_page.{axis}", lang)  # the menu says which axis it sets
    buttons = [
        {
            "label": f"{which} {t(f'col.{col}', lang)}",
            "method": "update",
            "args": [{axis: [values]}, {f"{axis}axis.title.text": t(f"col.{col}", lang)}, [0]],
        }
        for col, values in columns.items()
    ]
    return {
        "buttons": buttons,
        "active": list(columns).index(now),
        "direction": "down",
        "showactive": True,
        "x": 0.0,
        "y": at,
        "xanchor": "left",
        "yanchor": "bottom",
        "pad": {"t": 4, "b": 4},
    }


DASHES = ("solid", "dash", "dot", "dashdot")


def same_series(series: dict[str, pd.Series]) -> list[list[str]]:
    """Groups of names whose series are identical (two plans that give the same run)."""
    groups: list[list[str]] = []
    for name, s in series.items():
        values = np.asarray(s.to_numpy(), float)
        for group in groups:
            if np.allclose(np.asarray(series[group[0]].to_numpy(), float), values, equal_nan=True):
                group.append(name)
                break
        else:
            groups.append([name])
    return [g for g in groups if len(g) > 1]


def overlay_lines(
    series: dict[str, pd.Series],
    title: str,
    y_title: str,
    lang: Lang,
    percent: bool = False,
    events: list[dict] | tuple = (),
    currency: str | None = None,
) -> go.Figure:
    """Several plans' monthly series on one chart (x: month), each with its own dash so one
    line never hides another; plans with identical results are named in a note. With
    ``currency`` (a code) the values are money, shown as the cards show it."""
    fig = go.Figure()
    size, suffix = 1.0, ""
    if currency is not None:  # a currency code: money in 万/亿 as the cards write it
        values = np.concatenate([np.asarray(s.to_numpy(), float) for s in series.values()])
        size, y_title, suffix = _money_scale(values, currency, lang)
    for i, (name, s) in enumerate(series.items()):
        fig.add_trace(
            go.Scatter(
                x=s.index,
                y=s.to_numpy() / size,
                mode="lines",
                name=name,
                line={"dash": DASHES[i % len(DASHES)], "width": 3 if i == 0 else 2},
                hovertemplate=None
                if currency is None
                else f"%{{y:,.2f}}{suffix}<extra>%{{fullData.name}}</extra>",
            )
        )
    if percent:
        fig.update_yaxes(tickformat=".0%")
    if currency is not None and lang != "zh":
        fig.update_yaxes(tickprefix=currency_sign(currency))
    for k, group in enumerate(same_series(series)):
        joined = "、".join(group) if lang == "zh" else ", ".join(group)
        fig.add_annotation(
            x=0.01,
            xref="paper",
            y=0.02 + 0.08 * k,
            yref="paper",
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            text=t("chart.same_lines", lang, plans=joined),
            bgcolor="rgba(255,255,255,0.85)",
        )
    mark_events(fig, events, lang)
    return _layout(fig, title, t("chart.month", lang), y_title)


def replicate_ranges(
    values: dict[str, list[float]], title: str, lang: Lang, currency: str | None = None
) -> go.Figure:
    """One dot per replicate seed and plan, with the range: is a difference bigger than luck?
    With ``currency`` (a code) the values are money, shown as the cards show it."""
    size, y_title, suffix = 1.0, t("chart.per_seed", lang), ""
    if currency is not None:
        size, unit_title, suffix = _money_scale(
            np.concatenate([np.asarray(v, float) for v in values.values()]), currency, lang
        )
        y_title = f"{t('chart.per_seed', lang)} · {unit_title}"
    fig = go.Figure()
    for name, vals in values.items():
        fig.add_trace(
            go.Box(
                y=np.asarray(vals, float) / size,
                name=name,
                boxpoints="all",
                jitter=0.3,
                pointpos=0,
                hovertemplate=f"%{{y:,.2f}}{suffix}<extra>%{{fullData.name}}</extra>",
            )
        )
    if currency is not None and lang != "zh":
        fig.update_yaxes(tickprefix=currency_sign(currency))
    return _layout(fig, title, "", y_title, showlegend=False)


def distribution(
    values: np.ndarray, title: str, x_title: str, lang: Lang, log: bool = False
) -> go.Figure:
    """A histogram; with ``log`` the x axis is log-spaced (money spans decades) and zero
    values, which a log scale cannot place, are left out."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if log:
        v = v[v > 0]
    fig = go.Figure(go.Histogram(x=np.log10(v) if log else v, nbinsx=40))
    if log and v.size:
        ticks = np.arange(np.floor(np.log10(v.min())), np.ceil(np.log10(v.max())) + 1)
        fig.update_xaxes(tickvals=ticks, ticktext=[f"{10**k:,.10g}" for k in ticks])
    return _layout(fig, title, x_title, t("chart.customers", lang))


def roi_bars(table: pd.DataFrame, lang: Lang) -> go.Figure:
    """Return per extra unit of service money, by lever and by segment (columns: label, roi,
    kind)."""
    fig = go.Figure()
    for kind in ("lever", "segment"):
        part = table[table["kind"] == kind]
        fig.add_trace(
            go.Bar(
                x=part["roi"], y=part["label"], orientation="h", name=t(f"chart.roi_{kind}", lang)
            )
        )
    fig.add_vline(x=0, line={"color": "grey"})
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, t("chart.roi_title", lang), t("chart.roi_axis", lang))


def lesson_chart(spec: dict, lang: Lang) -> go.Figure:
    """A lesson experiment's chart from its data (``crmsim.lesson_experiments.chart``): bars
    or lines, one trace per series, labels from the catalogs."""
    x = [t(v, lang) for v in spec["x"]] if spec.get("x_keys") else spec["x"]
    fig = go.Figure()
    for i, (key, values) in enumerate(spec["series"].items()):
        name = t(key, lang)
        if spec["kind"] == "line":
            fig.add_trace(
                go.Scatter(
                    x=x, y=values, mode="lines", name=name, line={"dash": DASHES[i % len(DASHES)]}
                )
            )
        else:
            text = [f"{v:.1%}" if spec.get("percent") else f"{v:,.2f}" for v in values]
            if spec.get("money"):
                text = [money(v, lang) for v in values]
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=values,
                    name=name,
                    text=text,
                    textposition="outside",
                    marker_color=PALETTE[i % len(PALETTE)],
                )
            )
    if spec.get("percent"):
        fig.update_yaxes(tickformat=".0%")
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(showlegend=len(spec["series"]) > 1, barmode="group")
    return _layout(
        fig,
        t(f"lesson_chart.{spec['title']}", lang),
        t(spec["x_title"], lang) if spec.get("x_title") else "",
        t(spec["y_title"], lang) if spec.get("y_title") else "",
    )


def holdout_check(table: pd.DataFrame, lang: Lang) -> go.Figure:
    """Mean repeat purchases in the holdout, actual vs BG/NBD, by calibration-period purchases
    (the last group is "cap or more")."""
    groups = table["group"].astype(int).tolist()
    labels = [str(g) for g in groups]
    if labels:
        labels[-1] += "+"
    fig = go.Figure()
    for col, key, dash in (
        ("actual", "chart.actual", None),
        ("predicted", "chart.predicted", "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=table[col],
                mode="lines+markers",
                name=t(key, lang),
                line={"dash": dash} if dash else None,
            )
        )
    return _layout(
        fig,
        t("chart.holdout_title", lang),
        t("chart.calibration_purchases", lang),
        t("chart.holdout_purchases", lang),
    )


def allocation_heatmap(alloc: pd.DataFrame, kam_salary: float, lang: Lang) -> go.Figure:
    """Teams × (segment, lever): the share of each team's monthly service money (managers at
    their salary; rates left out), so the class sees who bet on what."""
    money = alloc[alloc["lever"].isin(["care", "recovery", "cross_sell", "kam"])].copy()
    money.loc[money["lever"] == "kam", "value"] *= kam_salary
    money["column"] = [
        f"{segment_label(s, lang)} · {t(f'lever.{lv}', lang)}"
        for s, lv in zip(money["segment"], money["lever"], strict=True)
    ]
    grid = money.pivot_table(
        index="team", columns="column", values="value", aggfunc="sum", sort=False
    ).fillna(0.0)
    grid = grid.loc[:, grid.sum(axis=0) > 0]  # levers nobody used add only width
    share = grid.div(grid.sum(axis=1).where(grid.sum(axis=1) > 0, 1.0), axis=0)
    fig = go.Figure(
        go.Heatmap(
            z=share.to_numpy(),
            x=list(share.columns),
            y=[plain_label(name) for name in share.index],
            colorscale="Blues",
            zmin=0,
            colorbar={"title": t("chart.share", lang), "tickformat": ".0%"},
            hovertemplate="%{y}<br>%{x}: %{z:.0%}<extra></extra>",
        )
    )
    fig.update_xaxes(tickangle=-35, automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(height=320 + 24 * len(share.index))
    return _layout(fig, t("room.heatmap", lang))


def debrief_html(
    title: str,
    leaderboard: pd.DataFrame,
    results: pd.DataFrame,
    lang: Lang,
    allocations: pd.DataFrame | None = None,
    kam_salary: float = 0.0,
) -> str:
    """A classroom's debrief as one self-contained HTML page (tables, and the Plotly charts
    with plotly.js inline, so it opens offline); every text from users is escaped."""
    import html

    from crmsim.classroom import column_names

    fig = go.Figure()
    for name, g in results.groupby("team", sort=False):
        fig.add_trace(
            go.Scatter(x=g["round"], y=g["score"], mode="lines+markers", name=plain_label(name))
        )
    fig.update_layout(
        title=html.escape(t("room.html_scores", lang)),
        xaxis_title=t("room.round", lang),
        yaxis_title=t("room.score", lang),
        template="plotly_white",
    )
    fig.update_xaxes(dtick=1)
    charts_html = fig.to_html(full_html=False, include_plotlyjs=True)
    if allocations is not None and not allocations.empty:
        heat = allocation_heatmap(allocations, kam_salary, lang)  # names escaped there
        charts_html += heat.to_html(full_html=False, include_plotlyjs=False)

    def table(df: pd.DataFrame) -> str:
        shown = df.copy()
        for col in ("npv", "customer_equity_end", "profit"):
            if col in shown:
                shown[col] = shown[col].map(lambda v: f"{v:,.0f}")
        for col, fmt in (
            ("retention_rate", "{:.1%}"),
            ("avg_satisfaction_end", "{:.3f}"),
            ("score", "{:.1f}"),
        ):
            if col in shown:
                shown[col] = shown[col].map(fmt.format)
        return shown.rename(columns=column_names(lang)).to_html(index=False, escape=True)

    head = html.escape(title)
    style = (
        "<style>body{font-family:sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}"
        "th{background:#f3f5f8}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}</style>"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{head}</title>{style}</head><body><h1>{head}</h1>"
        f"<h2>{html.escape(t('room.leaderboard', lang))}</h2>{table(leaderboard)}"
        f"<h2>{html.escape(t('room.results', lang))}</h2>{table(results)}"
        f"{charts_html}</body></html>"
    )


def team_run(
    series: dict, lang: Lang, status_quo: dict | None = None, currency: str = ""
) -> go.Figure:
    """A classroom team's own run, month by month, in four panels: the share of its starting
    customers still there, profit (in 万元 in Chinese, as the cards), satisfaction and
    customers by segment; dashed lines mark where each round began, and the status quo on the
    same months is drawn in grey. (Written as plain dicts, drawn as they are: ``_Drawn``.)"""
    months = series["month"]
    step = int(series.get("round_months") or 0)
    tick = 1 if len(months) <= 12 else step or None  # month numbers, or one tick a round
    profits = [series["profit"], *([status_quo["profit"]] if status_quo is not None else [])]
    size, _, unit = _money_scale(np.concatenate(profits), currency, lang)
    panels = (
        ("retained", t("room.team.chart_retained", lang), ".0%"),
        ("profit", t("kpi.profit", lang) + (f"（{unit}）" if unit else ""), ",.1f"),
        ("satisfaction", t("chart.satisfaction", lang), ".3f"),
    )

    def values(run: dict, key: str) -> list:
        return [v / size for v in run[key]] if key == "profit" else run[key]

    domains = {1: ([0, 0.46], [0.58, 1]), 2: ([0.54, 1], [0.58, 1]), 3: ([0, 0.46], [0, 0.42])}
    line = {"type": "scatter", "x": months, "mode": "lines"}
    traces, axes, notes = [], {}, []
    for i, (key, title, fmt) in enumerate(panels, start=1):
        axis = "" if i == 1 else str(i)
        on = {"xaxis": f"x{axis}", "yaxis": f"y{axis}", "showlegend": i == 1}
        if status_quo is not None:
            traces.append(
                {
                    **line,
                    **on,
                    "y": values(status_quo, key),
                    "name": t("room.team.status_quo", lang),
                    "line": {"color": "#bdbdbd", "dash": "dot"},
                    "legendgroup": "sq",
                }
            )
        traces.append(
            {
                **line,
                **on,
                "y": values(series, key),
                "name": t("room.team.your_run", lang),
                "line": {"color": PALETTE[0]},
                "legendgroup": "you",
            }
        )
        x_dom, y_dom = domains[i]
        axes[f"xaxis{axis}"] = {"domain": x_dom, "anchor": f"y{axis}", "dtick": tick}
        axes[f"yaxis{axis}"] = {"domain": y_dom, "anchor": f"x{axis}", "tickformat": fmt}
        if key == "profit" and not unit:  # English: ¥100k, as the other charts' axes
            axes[f"yaxis{axis}"].update(tickformat="~s", tickprefix=currency_sign(currency))
        notes.append(_panel_title(title, x_dom[0], y_dom[1] + 0.06))
    for j, (seg, counts) in enumerate(series["segments"].items()):
        traces.append(
            {
                **line,
                "y": counts,
                "name": segment_label(seg, lang),
                "stackgroup": "segments",
                "line": {"color": PALETTE[(j + 1) % len(PALETTE)]},
                "xaxis": "x4",
                "yaxis": "y4",
            }
        )
    axes["xaxis4"] = {"domain": [0.54, 1], "anchor": "y4", "dtick": tick}
    axes["yaxis4"] = {"domain": [0, 0.42], "anchor": "x4"}
    notes.append(_panel_title(t("room.team.chart_by_segment", lang), 0.54, 0.48))
    layout = {
        **_layout_dict(t("room.team.run_title", lang), height=560),
        **axes,
        "annotations": notes,
        "shapes": _round_lines(step, len(months)),
        "margin": {"l": 50, "r": 20, "t": 70, "b": 40},
        "legend": {"orientation": "h", "y": -0.12},
    }
    return _unchecked(traces, layout)


def _round_lines(step: int, months: int) -> list[dict]:
    """A dashed line on every panel of ``team_run`` where each round after the first began."""
    return [
        {
            "type": "line",
            "x0": start + 0.5,
            "x1": start + 0.5,
            "xref": f"x{axis}",
            "y0": 0,
            "y1": 1,
            "yref": f"y{axis} domain",
            "line": {"dash": "dash", "color": "#888", "width": 1},
        }
        for start in (range(step, months, step) if step else ())
        for axis in ("", "2", "3", "4")
    ]


def _panel_title(text: str, x: float, y: float) -> dict:
    return {
        "text": text,
        "x": x,
        "y": y,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "xanchor": "left",
    }


def round_scores(results: pd.DataFrame, lang: Lang, highlight: str | None = None) -> go.Figure:
    """Each team's score round by round (one line per team; ``highlight``'s drawn bold).
    (Written as plain dicts, drawn as they are: ``_Drawn``.)"""
    traces = []
    for name, g in results.groupby("team", sort=False):
        mine = name == highlight
        traces.append(
            {
                "type": "scatter",
                "x": g["round"].tolist(),
                "y": g["score"].tolist(),
                "mode": "lines+markers",
                "name": plain_label(name),
                "line": {"width": 4 if mine else 1.5},
                "opacity": 1.0 if mine or highlight is None else 0.45,
            }
        )
    title = t("room.html_scores", lang)
    layout = _layout_dict(title, t("room.round", lang), t("room.score", lang))
    layout["xaxis"] = {"title": {"text": t("room.round", lang)}, "dtick": 1}
    return _unchecked(traces, layout)
