"""The live chart's Python side (crmsim/ui/live_chart.py): the figure it sends and its name,
plotly.js placed in the app's static folder, and which selections it hands back. The browser
side (the chart kept mounted, a box selecting) is in tests/e2e/test_browser.py."""

import json

import numpy as np
import pandas as pd

from crmsim import charts
from crmsim.ui import live_chart, segments


def _scatter(labels: np.ndarray) -> object:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({c: rng.gamma(2.0, 50.0, 5000).round(2) for c in segments.SCATTER_AXES})
    return charts.scatter_customers(
        frame, "recency", "monetary", labels, ["key", "ordinary", "small"], "en", 0, ["recency"]
    )


def test_a_figure_is_named_by_what_it_draws():
    labels = np.random.default_rng(1).integers(0, 3, 5000)
    text, name = live_chart.figure_json(_scatter(labels))
    again, same = live_chart.figure_json(_scatter(labels.copy()))
    other_text, other = live_chart.figure_json(_scatter((labels + 1) % 3))  # new colours
    assert (text, name) == (again, same)
    assert other != name and other_text != text
    layout = json.loads(text)["layout"]
    assert layout["font"]["color"] == live_chart.THEME["font"]["color"]
    assert layout["dragmode"] == "select"  # the figure's own settings are kept


def test_plotly_js_is_copied_once_into_the_static_folder(tmp_path):
    static = tmp_path / "static"
    assert live_chart._static_copy(str(static))
    copy = static / live_chart.JS_NAME
    assert copy.read_bytes()[:200] == live_chart.PLOTLY_JS.read_bytes()[:200]
    assert copy.stat().st_size == live_chart.PLOTLY_JS.stat().st_size
    assert not list(static.glob("*.part"))  # written whole, then renamed


def test_no_static_folder_means_the_plain_chart(tmp_path):
    blocked = tmp_path / "static"
    blocked.write_text("a file where the folder should be")
    assert not live_chart._static_copy(str(blocked))
    assert live_chart.plotly_js_url() is None  # outside a script run: nothing to serve from


def test_only_a_selection_on_the_figure_drawn_is_returned():
    box = {"x": [0, 3], "y": [10, 500]}
    state = {"revision": "abc", "points": [{"x": 1, "y": 20, "customdata": 7}], "box": [box]}
    assert live_chart.current_selection(state, "abc") == {
        "points": state["points"],
        "box": [box],
        "lasso": [],
    }
    assert live_chart.current_selection(state, "new") is None  # made before a new segmentation
    assert live_chart.current_selection(None, "abc") is None
    assert live_chart.current_selection("junk", "abc") is None


def test_a_returned_box_selects_every_customer_inside():
    """The shape the chart returns is the one ``selected_rows`` reads (st.plotly_chart's)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({c: rng.gamma(2.0, 50.0, 8000).round(2) for c in segments.SCATTER_AXES})
    frame["recency"] = rng.integers(0, 12, 8000)  # months, as the page's data
    drawn = charts.stratified_sample(np.zeros(8000, int), charts.MAX_POINTS, 0)
    x, y = frame["recency"].to_numpy(), frame["monetary"].to_numpy()
    inside = drawn[(x[drawn] <= 2) & (y[drawn] <= 100)]
    points = [
        {"x": float(frame["recency"][i]), "y": float(frame["monetary"][i]), "customdata": int(i)}
        for i in inside
    ]
    state = {"revision": "r", "points": points, "box": [{"x": [2.5, -0.5], "y": [0, 100]}]}
    rows = segments.selected_rows(
        frame, live_chart.current_selection(state, "r"), segments.SCATTER_AXES, len(drawn)
    )
    expected = np.flatnonzero((x <= 2) & (y <= 100))  # months 0-2, up to 100 a month
    assert np.array_equal(rows, expected) and len(rows) > len(inside)
