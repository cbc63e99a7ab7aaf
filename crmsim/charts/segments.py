"""A segmentation's figures: the customer pyramid for value tiers (pyramid, ABC, CLV tiers), each
segment's share of customers beside its share of revenue for the other methods (RFM, k-means,
rules), and the RFM heatmap of mean spend by recency and frequency score. The customers as
points (the scatter) are in ``crmsim.charts.scatter``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crmsim.charts.base import PALETTE, _layout, segment_label
from crmsim.i18n import Lang, t

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
