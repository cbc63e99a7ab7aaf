"""The classroom's figures: a team's own run in four panels against the status quo, every team's
score round by round (both written as plain dicts and drawn as they are, ``_Drawn``: after a
reveal every open tab draws its own), the heatmap of how teams split their service money, and
the debrief as one self-contained HTML page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crmsim.charts.base import (
    PALETTE,
    _layout,
    _layout_dict,
    _money_scale,
    _unchecked,
    plain_label,
    segment_label,
)
from crmsim.i18n import Lang, t
from crmsim.money import currency_sign


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
    if lang == "zh":  # 10,000 (Plotly's "10k" is not how a Chinese reader counts customers)
        axes["yaxis4"]["tickformat"] = ",d"
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
