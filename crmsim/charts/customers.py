"""A customer base at a glance, synthetic or read from a purchase log: the whale curve of
revenue (the 80/20 rule), customers by lifecycle stage, a histogram of any column (log-spaced for
money), and the BG/NBD model's holdout check of a real log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crmsim.charts.base import STAGE_COLOURS, _layout
from crmsim.i18n import Lang, t
from crmsim.model.state import STAGE_NAMES


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
