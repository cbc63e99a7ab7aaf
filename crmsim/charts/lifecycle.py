"""A simulated run's customer base month by month: who is still a customer (Kaplan–Meier by
segment, cohorts), how satisfied they are (with the loyalty zones), the flows between lifecycle
stages (Sankey), money (revenue, service cost, profit) and how complaints ended, with the case's
dated events marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crmsim.charts.base import (
    STAGE_COLOURS,
    _layout,
    _money_scale,
    _rgba,
    mark_events,
    segment_label,
)
from crmsim.i18n import Lang, t
from crmsim.model.state import N_STAGES, STAGE_NAMES
from crmsim.money import currency_sign


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
