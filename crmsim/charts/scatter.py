"""The customers as points coloured by segment (one WebGL trace, at most ``MAX_POINTS`` markers
drawn, a sample stratified by segment), with optional menus that switch its axes in the browser,
and the Plotly config it is drawn with (``SCATTER_CONFIG``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crmsim.charts.base import PALETTE, _layout, segment_label
from crmsim.i18n import Lang, t

MAX_POINTS = 3_000  # a scatter draws at most this many (software WebGL: ~1.4 s for 10,000)
# The scatter's Plotly config: WebGL canvases at one pixel per screen pixel. Plotly draws them
# at twice the size by default, four times the pixels to fill and, in software rendering, to
# copy back for every frame: a new scatter settled in ~0.5 s instead of ~0.95 s (measured in
# headless Chromium). Points stay as sharp as the axes on a 1x screen; on a 2x screen they are
# slightly soft, which a cloud of 3,000 markers does not suffer from.
SCATTER_CONFIG = {"plotGlPixelRatio": 1}


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
        _axis_menus(fig, {col: frame[col].to_numpy()[idx] for col in axes}, x, y, lang)
    return fig


def _axis_menus(fig: go.Figure, drawn: dict[str, np.ndarray], x: str, y: str, lang: Lang) -> None:
    """The two menus over the scatter, one above the other (so they never overlap on a phone),
    from the drawn rows of each offered column, and the room they need."""
    columns = {  # rounded as hovered
        col: values.round(2) if values.dtype.kind == "f" else values
        for col, values in drawn.items()
    }
    fig.update_layout(
        updatemenus=[
            _axis_menu(columns, "x", x, 1.19, lang),
            _axis_menu(columns, "y", y, 1.0, lang),
        ],
        margin={"t": 150, "b": 70},
        height=520,
        title={"y": 0.98, "yanchor": "top"},
        legend={"orientation": "h", "y": -0.3},  # below the axis title on a phone too
    )


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
