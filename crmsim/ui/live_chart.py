"""A Plotly chart that the browser updates instead of mounting anew, with box and lasso
selection: the Segments page's customer scatter.

Why: Streamlit 1.67's ``st.plotly_chart`` computes a chart's element id from its figure, and
the browser keys the chart by that id, so a figure that changes (a new segmentation colours the
points anew) unmounts the chart and mounts a new one: a new WebGL context, which in software
rendering (no GPU, as on this VM) is most of a rerun (0.79 s settled on a bare page against
0.37 s for an update in place, measured in one browser). This chart is a custom component
(``st.components.v2``, mounted in the page, not an iframe) keyed by the page: its JavaScript
(``live_chart.js``) draws the figure with ``Plotly.react`` into the div it keeps, which updates
the points and colours and keeps the WebGL context.

plotly.js comes from the app's own server, never a CDN (classrooms are often offline): the copy
the plotly package ships is placed once in the app's ``static/`` folder, which Streamlit serves
(``server.enableStaticServing``). Where that cannot be done (static serving off, a read-only
install) the chart is drawn by ``st.plotly_chart`` as before, slower and otherwise the same.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import plotly
import plotly.graph_objects as go
import streamlit as st
from streamlit import file_util
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
JS_NAME = f"crm-plotly-{plotly.__version__}.min.js"  # a new name when plotly is upgraded
# Besides the figure's own config: no Plotly logo in the toolbar (as Streamlit's chart), and no
# "Share chart..." button, which plotly.js 4 shows by default and which uploads the chart to
# Plotly's cloud (students' data never leaves the server; classrooms are often offline).
BASE_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "plotlyServerURL": "",
}
# Streamlit's chart theme, as far as this chart uses it: white ground, light grid, its text
# colour and bold titles (st.plotly_chart applies its theme in the browser; a figure here
# carries its own), so the scatter looks like the charts beside it.
THEME = {
    "template": "plotly_white",
    "font": {"color": "#31333F"},
    "title": {"font": {"size": 16, "weight": 600}},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}

_component = st.components.v2.component(
    "crm_live_chart",
    js=(Path(__file__).with_name("live_chart.js")).read_text(encoding="utf-8"),
    isolate_styles=False,  # Plotly puts its own styles in the page's head
)


def figure_json(fig: go.Figure) -> tuple[str, str]:
    """The figure as this chart sends it (its JSON with the theme) and a short name for that
    figure: build both once and keep them, reruns send the same text."""
    themed = go.Figure(fig).update_layout(**THEME)
    text = themed.to_json()
    return text, hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@cache
def _static_copy(static_dir: str) -> bool:
    """Put plotly.js into the app's static folder (once per process; an existing copy of the
    same size is kept). Written to a temporary file and renamed, so app processes started
    together never serve half a file."""
    target = Path(static_dir) / JS_NAME
    try:
        if target.is_file() and target.stat().st_size == PLOTLY_JS.stat().st_size:
            return True
        target.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        os.close(fd)
        shutil.copyfile(PLOTLY_JS, tmp)
        os.replace(tmp, target)
        return True
    except OSError:
        return False


def plotly_js_url() -> str | None:
    """Where the page loads plotly.js from (relative to the page, so a proxy's path prefix is
    kept), or None when the app's server cannot serve it."""
    ctx = get_script_run_ctx()
    if ctx is None or not st.get_option("server.enableStaticServing"):
        return None
    if not _static_copy(file_util.get_app_static_dir(ctx.main_script_path)):
        return None
    return f"app/static/{JS_NAME}"


def scatter_chart(
    fig: go.Figure, fig_json: tuple[str, str], *, key: str, config: dict
) -> dict | None:
    """Draw ``fig`` (``fig_json``: its ``figure_json``) with box and lasso selection; returns
    the selection in ``st.plotly_chart``'s shape (``points``, ``box``, ``lasso``), or None. A
    selection made on an earlier figure (before a new segmentation) is not returned."""
    src = plotly_js_url()
    if src is None:
        picked = st.plotly_chart(
            fig, key=key, config=config, on_select="rerun", selection_mode=("box", "lasso")
        )
        return picked.selection if picked else None
    text, revision = fig_json
    result = _component(
        key=key,
        data={"figure": text, "revision": revision, "src": src, "config": BASE_CONFIG | config},
        on_selection_change=lambda: None,
    )
    return current_selection(result.get("selection"), revision)


def current_selection(state: dict | None, revision: str) -> dict | None:
    """The component's selection if it was made on the figure now drawn (a new figure starts
    with nothing selected, as a new ``st.plotly_chart`` does)."""
    if not isinstance(state, dict) or state.get("revision") != revision:
        return None
    return {key: state.get(key) or [] for key in ("points", "box", "lasso")}
