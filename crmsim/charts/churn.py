"""One sampled customer of a run: her months (satisfaction, loyalty, stage, complaint outcomes)
and why she left — how many percentage points of churn probability each part of her risk added
over the average active customer's, as a chart and in sentences."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from crmsim.charts.base import STAGE_COLOURS, _layout
from crmsim.i18n import Lang, t
from crmsim.model.month import FAST, HAZARD_TERMS, RESOLVED, SILENT, UNRESOLVED
from crmsim.model.state import N_STAGES, STAGE_NAMES


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
