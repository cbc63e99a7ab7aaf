"""A box or lasso on the Segments scatter selects every customer inside it, not only the
sampled points drawn, on whichever axes the browser was showing."""

import numpy as np
import pandas as pd

from crmsim.ui.segments import selected_rows

AXES = ["recency", "frequency", "monetary"]


def _frame(n: int = 10_000) -> pd.DataFrame:
    gen = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "recency": gen.integers(0, 12, n),
            "frequency": gen.integers(0, 13, n),
            "monetary": gen.gamma(2.0, 60.0, n).round(4),
        }
    )


def _points(frame: pd.DataFrame, rows: np.ndarray, x: str, y: str) -> list[dict]:
    return [
        {"customdata": int(r), "x": round(float(frame[x][r]), 2), "y": round(float(frame[y][r]), 2)}
        for r in rows
    ]


def test_a_box_counts_every_customer_inside_on_the_axes_shown():
    frame = _frame()
    drawn = np.arange(0, len(frame), 4)  # a quarter of the book drawn
    inside = frame["frequency"].between(3, 6) & frame["monetary"].between(50, 150)
    rows = drawn[inside.to_numpy()[drawn]]
    selection = {
        "points": _points(frame, rows, "frequency", "monetary"),  # the browser showed F × M
        "box": [{"xref": "x", "yref": "y", "x": [6, 3], "y": [50, 150]}],
        "lasso": [],
    }
    found = selected_rows(frame, selection, AXES, len(drawn))
    assert found.tolist() == np.flatnonzero(inside).tolist()
    assert len(found) > 3 * len(rows)  # the undrawn customers inside count too


def test_a_lasso_counts_every_customer_inside_the_polygon():
    frame = _frame()
    drawn = np.arange(0, len(frame), 3)
    poly_x, poly_y = [0, 6, 0], [0, 0, 300]  # a triangle on recency × monetary
    x, y = frame["recency"].to_numpy(float), frame["monetary"].to_numpy(float)
    inside = (x >= 0) & (y >= 0) & (x / 6 + y / 300 < 1)
    rows = drawn[inside[drawn]]
    selection = {
        "points": _points(frame, rows, "recency", "monetary"),
        "box": [],
        "lasso": [{"x": poly_x, "y": poly_y}],
    }
    found = selected_rows(frame, selection, AXES, len(drawn))
    edge = np.isclose(x / 6 + y / 300, 1)
    assert set(found) ^ set(np.flatnonzero(inside)) <= set(np.flatnonzero(edge))


def test_everyone_drawn_or_nothing_picked():
    frame = _frame(500)
    rows = np.array([3, 7, 11])
    selection = {"points": _points(frame, rows, "recency", "frequency"), "box": [], "lasso": []}
    assert selected_rows(frame, selection, AXES, len(frame)).tolist() == [3, 7, 11]
    assert selected_rows(frame, None, AXES, 100).tolist() == []
