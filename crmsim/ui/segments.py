"""The Segments page's widgets, and the segmentation the other pages work with."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from crmsim import charts
from crmsim.cases import Case
from crmsim.errors import InputError
from crmsim.i18n import Lang, t
from crmsim.population import Population
from crmsim.reading import loads_json
from crmsim.segmentation import (
    DEFAULT_FEATURES,
    DEFAULT_SHARES,
    Segmentation,
    full_params,
    rfm_scores,
    segment_for_case,
)
from crmsim.ui import live_chart

RULES_EXAMPLE = [
    {"segment": "vip", "conditions": [{"field": "monetary", "op": ">=", "value": 300}]},
    {"segment": "quiet", "conditions": [{"field": "recency", "op": ">", "value": 3}]},
]
KMEANS_FEATURES = ("recency", "frequency", "monetary", "tenure_months", "complaints_12m")
SHARES_SHOWN = "_seg_shares_of"  # the method whose shares the boxes held in the last run
SCATTER_AXES = ["recency", "frequency", "monetary", "revenue_12m", "tenure_months"]


def seed_widgets(spec: dict) -> None:
    """Put a segmentation choice into the Segments page's widgets, when the page is entered
    (a page change drops widget state; the choice lives on in the session and the address)."""
    ss = st.session_state
    method = spec["method"]
    params = full_params(method, spec.get("params"))
    ss["seg_method"] = method
    for name, shares in DEFAULT_SHARES.items():
        own = params.get("shares") if name == method else None
        if not isinstance(own, list) or len(own) != len(shares):
            own = shares
        for i, share in enumerate(own):
            ss[f"seg_{name}_{i}"] = int(min(max(round(float(share) * 100), 1), 98))
    ss.pop(SHARES_SHOWN, None)  # the share boxes take the chosen method's values again
    mine = method == "kmeans"
    ss["seg_k"] = int(params["k"]) if mine else 4
    feats = params["features"] if mine else list(DEFAULT_FEATURES)
    ss["seg_feats"] = [f for f in feats if f in KMEANS_FEATURES]
    rules = params.get("rules") if method == "rules" else RULES_EXAMPLE
    ss["seg_rules"] = json.dumps(rules, ensure_ascii=False, indent=1)


def _param_keys() -> list[str]:
    """The session-state keys of the parameter widgets that belong to one method (the share
    boxes are shared, their values kept per method in ``seg_<method>_<i>``)."""
    return ["seg_k", "seg_feats", "seg_rules"]


def keep_params() -> None:
    """Keep the parameters of the methods not shown in this run. Streamlit forgets a widget's
    value in a run that does not draw it, so going back to a method showed its minimums (the
    pyramid's shares 1 %, 1 %, 1 % and an error) and lost what the student had typed."""
    ss = st.session_state
    for key in _param_keys():
        if key in ss:
            ss[key] = ss[key]


def segmentation_params(method: str, lang: Lang) -> dict:
    """The parameter widgets of one segmentation method (their values put there by
    ``seed_widgets``, kept by ``keep_params``); returns the parameters chosen. They sit in one
    container whatever the method, so what follows keeps its place on the page and the
    browser keeps the charts that did not change rather than drawing them anew."""
    keep_params()
    with st.container():
        return _method_params(method, lang)


def _method_params(method: str, lang: Lang) -> dict:
    if method in DEFAULT_SHARES:
        return {"shares": _share_inputs(method, lang)}
    st.session_state[SHARES_SHOWN] = None
    if method == "kmeans":
        k = st.slider(t("seg_page.k", lang), 2, 10, key="seg_k")
        feats = st.multiselect(
            t("seg_page.features", lang),
            list(KMEANS_FEATURES),
            key="seg_feats",
            format_func=lambda c: t(f"col.{c}", lang),
        )
        return {"k": k, "features": feats}
    if method == "rules":
        text = st.text_area(t("seg_page.rules", lang), height=180, max_chars=5000, key="seg_rules")
        try:
            return {"rules": loads_json(text, field=t("seg_page.rules", lang))}
        except InputError as exc:
            st.error(exc.report(lang))
            st.stop()
    return {}


# -- what the page draws, made once per population and choice ---------------------------------
@dataclass(frozen=True)
class SegmentsView:
    """A segmentation and what the Segments page draws of it (read-only: shared by sessions)."""

    seg: Segmentation
    profile: pd.DataFrame  # the profile table as the reader sees it
    share_chart: go.Figure  # the pyramid, or each segment's share of customers and revenue
    scatter: go.Figure
    scatter_json: tuple[str, str]  # the scatter as live_chart sends it, and its name


def segments_view(
    chosen: dict, case_obj: Case, pop: Population, method: str, params: dict, lang: Lang
) -> SegmentsView:
    """The segmentation chosen and its table and charts, made once per population, method,
    parameters and language and shared by every session: going back to a method, or a
    selection on the scatter, only draws again. Raises ``InputError`` for invalid parameters
    (nothing is kept then)."""
    return _segments_view(
        _population_key(chosen, lang),
        method,
        json.dumps(params, sort_keys=True, ensure_ascii=False),
        lang,
        _case=case_obj,
        _pop=pop,
    )


def rfm_chart(chosen: dict, pop: Population, lang: Lang) -> go.Figure:
    """The RFM heatmap of the population: one figure per population and language, the same
    whatever the segmentation, so the browser keeps the chart it has drawn."""
    return _rfm_chart(_population_key(chosen, lang), lang, _pop=pop)


def _population_key(chosen: dict, lang: Lang) -> tuple:
    """What names a population (``runs.population`` generates one per case, size, seed and
    language)."""
    return (chosen["case_id"], int(chosen["customers"]), int(chosen["seed"]), lang)


@st.cache_resource(max_entries=64, show_spinner=False)
def _segments_view(
    key: tuple, method: str, params_json: str, lang: Lang, _case: Case, _pop: Population
) -> SegmentsView:
    customers = _pop.customers
    seed = key[2]
    seg = segment_for_case(customers, method, json.loads(params_json), _case, seed)
    named = seg.profile.assign(
        segment=[charts.segment_label(s, lang) for s in seg.profile["segment"]]
    )
    scatter = charts.scatter_customers(
        customers, "recency", "monetary", seg.labels, seg.names, lang, seed, SCATTER_AXES
    )
    return SegmentsView(
        seg,
        translated_profile(named, lang),
        charts.segment_chart(seg.profile, method, lang),
        scatter,
        live_chart.figure_json(scatter),
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def _rfm_chart(key: tuple, lang: Lang, _pop: Population) -> go.Figure:
    customers = _pop.customers
    return charts.rfm_heatmap(rfm_scores(customers), customers["monetary"].to_numpy(), lang)


def _share_inputs(method: str, lang: Lang) -> list[float]:
    """The tier shares of the pyramid, ABC or CLV tiers, in %-boxes that all three methods
    share (``seg_share_<i>``): going from one to another updates the boxes in the browser
    rather than drawing new ones. Each method's own values are kept in ``seg_<method>_<i>``
    and put into the boxes when the method is shown after another."""
    ss = st.session_state
    defaults = DEFAULT_SHARES[method]
    if ss.get(SHARES_SHOWN) != method:
        for i, share in enumerate(defaults):
            ss[f"seg_share_{i}"] = ss.get(f"seg_{method}_{i}", round(share * 100))
        ss[SHARES_SHOWN] = method
    cols = st.columns(len(defaults))
    shares = [
        col.number_input(t("seg_page.share", lang, n=i + 1), 1, 98, key=f"seg_share_{i}")
        for i, col in enumerate(cols)
    ]
    for i, value in enumerate(shares):
        ss[f"seg_{method}_{i}"] = value
    return [value / 100 for value in shares]


def current_spec(case_obj: Case) -> dict:
    """The segmentation chosen (on the Segments page or by a loaded plan), else the case's."""
    return st.session_state.get("segmentation") or case_obj.status_quo.segmentation.model_dump()


def translated_profile(profile, lang: Lang):
    """The profile table with headers in the reader's language and shares as percentages."""
    out = profile.copy()
    for col in ("share", "revenue_share"):
        out[col] = (out[col] * 100).round(1)
    out = out.round({"mean_recency": 2, "mean_frequency": 2, "mean_monetary": 1, "mean_survey": 2})
    return out.rename(columns=lambda c: t(f"col.{c}", lang) + (" %" if "share" in c else ""))


def current_segmentation(case_obj: Case, pop: Population) -> Segmentation:
    """The segmentation chosen on the Segments page (or by a loaded plan), else the status
    quo's; an invalid stored choice falls back to the status quo's."""
    spec = current_spec(case_obj)
    try:
        return segment_for_case(
            pop.customers, spec["method"], spec.get("params") or {}, case_obj, pop.seed
        )
    except InputError:
        return status_quo_segmentation(case_obj, pop)


def status_quo_segmentation(case_obj: Case, pop: Population) -> Segmentation:
    """The case's own segmentation (the one its status quo, presets and classroom plans use)."""
    sq = case_obj.status_quo.segmentation
    return segment_for_case(pop.customers, sq.method, sq.params, case_obj, pop.seed)


# -- a selection on the scatter, over every customer --------------------------------------------
def _axes_of(frame: pd.DataFrame, points: list[dict], axes: list[str]) -> tuple[str, str] | None:
    """Which two columns the scatter showed when the points were picked (the browser switches
    its axes alone): the columns whose values at the picked rows are the points' x and y."""
    rows = np.asarray([p["customdata"] for p in points if "customdata" in p], dtype=int)
    if not rows.size:
        return None
    xs = np.asarray([p.get("x") for p in points if "customdata" in p], dtype=float)
    ys = np.asarray([p.get("y") for p in points if "customdata" in p], dtype=float)

    def match(values: np.ndarray) -> str | None:
        for col in axes:
            shown = frame[col].to_numpy(float)[rows]
            if np.allclose(shown, values, rtol=1e-6, atol=0.011, equal_nan=True):  # ± rounding
                return col
        return None

    x, y = match(xs), match(ys)
    return (x, y) if x and y else None


def _inside(x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Points (x, y) inside the polygon (px, py) (even–odd rule)."""
    inside = np.zeros(len(x), bool)
    j = len(px) - 1
    for i in range(len(px)):
        crosses = (py[i] > y) != (py[j] > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (px[j] - px[i]) * (y - py[i]) / (py[j] - py[i]) + px[i]
        inside ^= crosses & (x < at)
        j = i
    return inside


def selected_rows(frame: pd.DataFrame, selection, axes: list[str], drawn: int) -> np.ndarray:
    """Every customer inside the box or lasso drawn on the scatter, not only the sampled points
    it showed: the region is applied to all rows on the columns the chart was showing. (When
    all rows were drawn, or the columns cannot be told, the picked points themselves.)"""
    points = list(selection.get("points", []) if selection else [])
    picked = np.asarray([p["customdata"] for p in points if "customdata" in p], dtype=int)
    shown = _axes_of(frame, points, axes) if drawn < len(frame) else None
    if shown is None:
        return np.unique(picked)
    x, y = (frame[c].to_numpy(float) for c in shown)
    hit = np.zeros(len(frame), bool)
    for box in selection.get("box", []) or []:
        (x0, x1), (y0, y1) = sorted(box["x"][:2]), sorted(box["y"][:2])
        hit |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    for lasso in selection.get("lasso", []) or []:
        hit |= _inside(x, y, np.asarray(lasso["x"], float), np.asarray(lasso["y"], float))
    hit[picked] = True
    return np.flatnonzero(hit)
