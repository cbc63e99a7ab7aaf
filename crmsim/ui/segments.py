"""The Segments page's widgets, and the segmentation the other pages work with."""

from __future__ import annotations

import json

import streamlit as st

from crmsim.cases import Case
from crmsim.errors import InputError
from crmsim.i18n import Lang, t
from crmsim.population import Population
from crmsim.segmentation import Segmentation, segment_for_case


def segmentation_params(method: str, customers, lang: Lang) -> dict:
    """The parameter widgets of one segmentation method; returns the parameters chosen."""
    if method in ("pyramid", "abc", "clv"):
        defaults = {"pyramid": (10, 30, 60), "abc": (80, 15, 5), "clv": (5, 15, 30, 50)}[method]
        cols = st.columns(len(defaults))
        shares = [
            col.number_input(t("seg_page.share", lang, n=i + 1), 1, 98, d, key=f"seg_{method}_{i}")
            for i, (col, d) in enumerate(zip(cols, defaults, strict=True))
        ]
        return {"shares": [s / 100 for s in shares]}
    if method == "kmeans":
        k = st.slider(t("seg_page.k", lang), 2, 10, 4, key="seg_k")
        feats = st.multiselect(
            t("seg_page.features", lang),
            ["recency", "frequency", "monetary", "tenure_months", "complaints_12m"],
            default=["recency", "frequency", "monetary"],
            key="seg_feats",
            format_func=lambda c: t(f"col.{c}", lang),
        )
        return {"k": k, "features": feats}
    if method == "rules":
        example = [
            {"segment": "vip", "conditions": [{"field": "monetary", "op": ">=", "value": 300}]},
            {"segment": "quiet", "conditions": [{"field": "recency", "op": ">", "value": 3}]},
        ]
        text = st.text_area(
            t("seg_page.rules", lang),
            json.dumps(example, ensure_ascii=False, indent=1),
            height=180,
            max_chars=5000,
            key="seg_rules",
        )
        try:
            return {"rules": json.loads(text)}
        except json.JSONDecodeError as exc:
            st.error(t("err.bad_json", lang, detail=f"{exc.msg} ({exc.lineno}:{exc.colno})"))
            st.stop()
    return {}


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
    spec = st.session_state.get("segmentation") or case_obj.status_quo.segmentation.model_dump()
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
