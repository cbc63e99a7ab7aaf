"""The least a Streamlit page can do to redraw the Segments scatter: one select box and the same
10,000 WebGL points with box/lasso selection, nothing else. bench_app.py times its axis change
in the same browser as the app's, so the two read against each other: what is left above this
floor is the app's own cost, the floor itself is the browser's (software WebGL on a GPU-less
machine)."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

axis = st.selectbox("横轴", ["a", "b", "c", "d", "e"], key="seg_x")
rng = np.random.default_rng("abcde".index(axis))
n = 10_000
fig = go.Figure(
    go.Scattergl(
        x=rng.random(n),
        y=rng.random(n),
        mode="markers",
        customdata=np.arange(n),
        marker={"size": 5, "opacity": 0.7, "color": rng.integers(0, 3, n).astype(np.int16)},
    )
)
st.plotly_chart(fig, key="seg_scatter", on_select="rerun", selection_mode=("box", "lasso"))
