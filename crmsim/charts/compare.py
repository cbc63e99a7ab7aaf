"""Plans set against each other: several plans' monthly series on one chart (identical runs
named in a note), the spread of replicate seeds per plan (is a difference bigger than luck?),
and the return per extra unit of service money by lever and by segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crmsim.charts.base import DASHES, _layout, _money_scale, mark_events
from crmsim.i18n import Lang, t
from crmsim.money import currency_sign


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
