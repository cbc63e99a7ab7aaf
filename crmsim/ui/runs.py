"""Populations and simulation runs shared by every session of the server process."""

from __future__ import annotations

import threading
from collections import OrderedDict

import pandas as pd
import streamlit as st

from crmsim.cases import Case
from crmsim.charts import segment_label
from crmsim.i18n import Lang, t
from crmsim.metrics import incremental_roi
from crmsim.model.outputs import SimResult
from crmsim.model.run import simulate
from crmsim.plans import LEVERS, Plan, without
from crmsim.population import Population, generate
from crmsim.ui.case_store import case


@st.cache_resource(max_entries=8, show_spinner=False)
def population(case_id: str, n: int, seed: int, locale: str) -> Population:
    """A generated population shared by every session that asks for the same one (read-only:
    the engine copies what it changes)."""
    return generate(case(case_id), n, seed=seed, locale=locale)


class _RunStore:
    """Finished runs shared by all sessions of this server process, least recently used out
    first. (Not ``st.cache_resource`` on ``run`` itself: Streamlit replays the element calls a
    cached function made, and a progress bar belongs to the session that drew it.)"""

    def __init__(self, size: int = 16):
        self.size, self.runs, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: tuple) -> SimResult | None:
        with self.lock:
            if key in self.runs:
                self.runs.move_to_end(key)
                return self.runs[key]
        return None

    def put(self, key: tuple, result: SimResult) -> None:
        with self.lock:
            self.runs[key] = result
            while len(self.runs) > self.size:
                self.runs.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _run_store() -> _RunStore:
    return _RunStore()


def run(
    case_id: str,
    customers: int,
    seed: int,
    locale: str,
    plan_json: str,
    months: int,
    progress=None,
) -> SimResult:
    """A simulation shared by every session that asks for the same one (read-only);
    ``progress(month, months)`` is called while it runs, only when it has to run."""
    key = (case_id, customers, seed, locale, plan_json, months)
    store = _run_store()
    found = store.get(key)
    if found is None:
        plan = Plan.model_validate_json(plan_json)
        found = simulate(
            population(case_id, customers, seed, locale),
            case(case_id),
            plan,
            months,
            seed,
            progress=progress,
        )
        store.put(key, found)
    return found


def roi_breakdown(
    args: tuple, plan: Plan, months: int, case_obj: Case, lang: Lang, progress=None
) -> pd.DataFrame:
    """ROI of each lever and each segment's allocation in ``plan``, from counterfactual runs on
    the same population and seed (shared through the run store)."""
    full = run(*args, plan.model_dump_json(), months)
    used = [lv for lv in LEVERS if any(getattr(a, lv) for a in plan.allocations.values())]
    todo = [("lever", lv, without(plan, lever=lv)) for lv in used]
    todo += [("segment", s, without(plan, segment=s)) for s in plan.allocations]
    rows = []
    for i, (kind, key, cf) in enumerate(todo):
        other = run(*args, cf.model_dump_json(), months)
        label = t(f"lever.{key}", lang) if kind == "lever" else segment_label(key, lang)
        rows.append(
            {
                "kind": kind,
                "key": key,
                "label": label,
                "roi": incremental_roi(full, other, case_obj),
            }
        )
        if progress is not None:
            progress(i + 1, len(todo))
    return pd.DataFrame(rows)
