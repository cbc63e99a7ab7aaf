"""The status-quo history of an existing book (the 12 months before a run starts), from
which the customers table's RFM columns, revenue and complaints come: the same monthly update
as a run (``run.Run`` with ``history=True``), without churn — the book's customers are the
survivors."""

from __future__ import annotations

import numpy as np

from crmsim import rng as rngs
from crmsim.model.case import Case
from crmsim.model.levers import DISCOUNT
from crmsim.model.run import Run, compile_plan
from crmsim.model.state import F32, PROSPECT, Population
from crmsim.model.traits import initial_state, start_relationship


def run_history(pop: Population, case: Case, months: int, seed: int) -> dict:
    """Simulate the status-quo history of an existing book, without churn (they are survivors).

    Customers who joined within the window enter in their joining month. Returns the end
    state and the observed purchase summary (RFM, revenue, complaints).
    """
    from crmsim.segmentation import provisional_frame, segment

    traits = pop.traits
    n = len(pop.customers)
    tenure_end = pop.customers["tenure_months"].to_numpy().astype(np.int64)
    entry = np.where(tenure_end >= months, 0, months + 1 - tenure_end).astype(np.int16)
    tenure0 = np.maximum(tenure_end - months, 0)
    state = initial_state(traits, tenure0, case, rngs.stream(seed, rngs.POPULATION, 99), entry > 0)
    frame = provisional_frame(pop.customers, traits)
    seg = segment(
        frame, case.status_quo.segmentation.method, case.status_quo.segmentation.params, seed=seed
    )
    cp = compile_plan(
        case.status_quo,
        seg.names,
        seg.labels,
        frame["monetary"].to_numpy(),
        scale=n / case.population.customers,
    )
    state.pref[:] = 1 - cp.levers[cp.seg, DISCOUNT].astype(F32)
    run = Run(case, traits, state, cp, cp.seg, entry, seed, months, history=True, value=cp.value)
    for t in range(1, months + 1):
        run.month(t)
    late = np.flatnonzero(state.stage == PROSPECT)  # join right after the window
    start_relationship(state, traits, late, run._price(late))
    active_months = np.clip(months + 1 - np.maximum(entry, 1), 0, months).astype(np.float64)
    revenue = run.revenue_margin(slice(0, n))[0]
    if case.kind == "contractual":
        # a contract customer pays a bill every month: one who bought nothing else in the
        # window still has her latest bill, so her table never shows spend without a purchase
        billed_only = (run.buys == 0) & (revenue > 0)
        run.buys[billed_only] = 1
        run.last_buy[billed_only] = months
    # months since the last purchase; never bought in the window: months since she joined
    recency = np.where(run.last_buy >= 0, months - run.last_buy, np.minimum(months, tenure_end))
    recency = recency.astype(np.int32)
    list_spend = revenue / np.maximum(1 - cp.levers[cp.seg, DISCOUNT], 1e-9)
    observed = {
        "recency": recency,
        "frequency": run.buys.astype(np.int32),
        "monetary": np.round(revenue / np.maximum(active_months, 1), 2),
        "revenue": np.round(revenue, 2),
        "complaints": state.complaints.astype(np.int32),
    }
    return {
        "state": state,
        "observed": observed,
        "list_spend": list_spend / np.maximum(active_months, 1),
    }
