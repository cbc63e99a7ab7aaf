"""A guided lesson's experiment as a chart: bars or lines, one trace per series, drawn from the
data ``crmsim.lesson_experiments`` returns, every label from the catalogs."""

from __future__ import annotations

import plotly.graph_objects as go

from crmsim.charts.base import DASHES, PALETTE, _layout
from crmsim.i18n import Lang, t
from crmsim.money import money


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
