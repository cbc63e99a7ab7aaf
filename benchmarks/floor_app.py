"""The least a Streamlit page can do to redraw the Segments scatter with ``st.plotly_chart``: one
select box and the same figure the Segments page draws (``charts.scatter_customers``: 3,000 of
10,000 customers in one WebGL trace, its axis menus, box and lasso selection, the same Plotly
config), nothing else. A new figure is a new chart here (Streamlit names the chart by its
figure), so this is the cost of mounting a new WebGL chart in software rendering: the floor the
Segments page could not go under before it kept its scatter mounted (``crmsim/ui/live_chart.py``,
which updates the chart in place and reads below this floor). bench_app.py times a new choice
here in the same browser as the app's new method, so the two read against each other."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crmsim import charts

COLUMNS = ["recency", "frequency", "monetary", "revenue_12m", "tenure_months"]

choice = st.selectbox("横轴", ["a", "b", "c", "d", "e"], key="seg_x")
rng = np.random.default_rng("abcde".index(choice))
n = 10_000
frame = pd.DataFrame({col: rng.gamma(2.0, 50.0, n).round(2) for col in COLUMNS})
labels = rng.integers(0, 3, n)  # a new segmentation each time, as a new method gives
st.plotly_chart(
    charts.scatter_customers(
        frame, "recency", "monetary", labels, ["key", "ordinary", "small"], "zh", 0, COLUMNS
    ),
    key="seg_scatter",
    config=charts.SCATTER_CONFIG,
    on_select="rerun",
    selection_mode=("box", "lasso"),
)
