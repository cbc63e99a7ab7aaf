"""The Service plan page's segments × levers grid, acquisition inputs and cost table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from crmsim.cases import Case
from crmsim.charts import segment_label
from crmsim.i18n import Lang, t
from crmsim.plans import LEVERS, Levers, Plan, SegmentationSpec
from crmsim.segmentation import Segmentation
from crmsim.ui.plan_state import plan_version

# -- the plan being edited -----------------------------------------------------------------
RATE_COLUMNS = ("rewards", "discount")


def plan_grid(plan: Plan, seg: Segmentation, lang: Lang) -> pd.DataFrame:
    """Segments × levers as an editable table (rates in %)."""
    counts = np.bincount(seg.labels, minlength=len(seg.names))
    rows = []
    for name, count in zip(seg.names, counts, strict=True):
        lv = plan.allocations.get(name, Levers())
        row = {
            t("plan_page.segment", lang): segment_label(name, lang),
            t("plan_page.customers", lang): int(count),
        }
        for lever in LEVERS:
            value = getattr(lv, lever)
            row[t(f"lever.{lever}", lang)] = value * 100 if lever in RATE_COLUMNS else value
        rows.append(row)
    return pd.DataFrame(rows)


def plan_grid_config(lang: Lang) -> dict:
    """Column rules: money ≥ 0, whole managers, rates 0–90 %."""
    cfg = {}
    for lever in LEVERS:
        label = t(f"lever.{lever}", lang)
        if lever in RATE_COLUMNS:
            cfg[label] = st.column_config.NumberColumn(
                label + " %", min_value=0.0, max_value=90.0, step=0.5, format="%.1f"
            )
        elif lever == "kam":
            cfg[label] = st.column_config.NumberColumn(
                label, min_value=0, max_value=1000, step=1, format="%d"
            )
        else:
            cfg[label] = st.column_config.NumberColumn(
                label, min_value=0.0, step=100.0, format="%.0f"
            )
    return cfg


def acquisition_inputs(plan: Plan, case_obj: Case, lang: Lang) -> dict[str, float]:
    """Monthly acquisition money for each channel the case offers."""
    if not case_obj.acquisition:
        return {}
    st.markdown(f"**{t('plan_page.acquisition', lang)}**")
    cols = st.columns(len(case_obj.acquisition))
    out = {}
    for col, (ch, spec) in zip(cols, case_obj.acquisition.items(), strict=True):
        out[ch] = col.number_input(
            t(f"channel.{ch}", lang),
            min_value=0.0,
            step=500.0,
            value=float(plan.acquisition.get(ch, 0.0)),
            help=t("plan_page.channel_help", lang, cost=f"{spec.cost:,.0f}", man=f"{spec.man:.0%}"),
            key=f"plan_acq_{ch}_{plan_version()}",
        )
    return out


def plan_from_grid(
    grid: pd.DataFrame, acquisition: dict, plan: Plan, seg: Segmentation, lang: Lang
) -> Plan:
    """The edited table back into a plan (rows in segment order; blanks count as 0)."""
    allocations = {}
    for name, (_, row) in zip(seg.names, grid.iterrows(), strict=True):
        values = {}
        for lever in LEVERS:
            v = row[t(f"lever.{lever}", lang)]
            v = 0.0 if v is None or pd.isna(v) else float(v)
            values[lever] = (
                round(v) if lever == "kam" else (v / 100 if lever in RATE_COLUMNS else v)
            )
        allocations[name] = Levers(**values)
    return Plan(
        name=plan.name,
        segmentation=SegmentationSpec(method=seg.method, params=seg.params or {}),
        allocations=allocations,
        acquisition={ch: v for ch, v in acquisition.items() if v > 0},
        new_customer_segment=plan.new_customer_segment
        if plan.new_customer_segment in seg.names
        else None,
    )


def cost_per_customer(
    plan: Plan, seg: Segmentation, case_obj: Case, n: int, lang: Lang
) -> pd.DataFrame:
    """Money per customer per month in each segment (levers and managers; rates excluded,
    they cost a share of revenue), at the case's reference population size."""
    counts = np.bincount(seg.labels, minlength=len(seg.names)) * (
        case_obj.population.customers / max(n, 1)
    )
    rows = []
    for name, count in zip(seg.names, counts, strict=True):
        lv = plan.allocations.get(name, Levers())
        money = lv.money(case_obj.costs.kam_salary)
        rows.append(
            {
                t("plan_page.segment", lang): segment_label(name, lang),
                t("plan_page.per_customer", lang, currency=case_obj.currency): round(
                    money / count, 2
                )
                if count
                else 0.0,
                t("plan_page.rates", lang): f"{lv.rewards:.0%} / {lv.discount:.0%}",
            }
        )
    return pd.DataFrame(rows)
