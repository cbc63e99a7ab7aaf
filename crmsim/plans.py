"""Service plans: loading (TOML/JSON), checks against segments and budget, presets.

The schema (``Plan``, ``Levers``, ``SegmentationSpec``) lives in ``crmsim.model.plan``. Plans
load from TOML or JSON and are checked against the segments that exist and the case budget,
each problem naming its field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from crmsim.errors import InputError, Issue, issues_from_pydantic
from crmsim.model.levers import money_cost, rate_cost_forecast
from crmsim.model.plan import (  # noqa: F401  (re-exported: the schema's public names)
    CHANNELS,
    LEVERS,
    MAX_RATE,
    SEGMENT_METHODS,
    ChannelName,
    Levers,
    Plan,
    SegmentationSpec,
    SegmentMethod,
)
from crmsim.reading import PLAN, read_structured

if TYPE_CHECKING:
    from crmsim.model.case import Case

PRESETS: tuple[str, ...] = ("status_quo", "zero", "equal", "value", "pyramid", "key_first")
MAX_PLAN_BYTES = PLAN.max_bytes


def parse_plan(data: dict, source: str = "plan") -> Plan:
    """Validate a plan mapping; raise ``InputError`` with field-level issues."""
    if not isinstance(data, dict):
        raise InputError([Issue("", "not_table")], source)
    try:
        return Plan.model_validate(data)  # strict: acquisition money >= 0 and finite
    except ValidationError as exc:
        raise InputError(issues_from_pydantic(exc), source) from None


def load_plan_bytes(raw: bytes, fmt: str, source: str = "plan") -> Plan:
    """Parse plan file contents (``toml`` or ``json``) through the reading layer (size cap,
    UTF-8, depth, duplicate keys, finite numbers, syntax with line and column), then the
    schema."""
    data = read_structured(raw, "json" if fmt == "json" else "toml", PLAN, source)
    return parse_plan(data, source)


def load_plan(path: str | Path) -> Plan:
    """Load a plan from a ``.toml`` or ``.json`` file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError:
        raise InputError([Issue("", "cannot_read", {"path": path.name})], path.name) from None
    fmt = "json" if path.suffix.lower() == ".json" else "toml"
    return load_plan_bytes(raw, fmt, path.name)


def plan_to_toml(plan: Plan) -> str:
    """Serialise a plan as TOML (the format ``load_plan`` reads back)."""
    lines = [f"name = {json.dumps(plan.name, ensure_ascii=False)}"]
    if plan.new_customer_segment:
        lines.append(f"new_customer_segment = {json.dumps(plan.new_customer_segment)}")
    lines += ["", "[segmentation]", f'method = "{plan.segmentation.method}"']
    if plan.segmentation.params:
        lines.append(f"params = {_toml_inline(plan.segmentation.params)}")
    for seg, lv in plan.allocations.items():
        lines += ["", f"[allocations.{json.dumps(seg, ensure_ascii=False)}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in lv.model_dump().items()]
    if plan.acquisition:
        lines += ["", "[acquisition]"] + [
            f"{k} = {_toml_value(v)}" for k, v in plan.acquisition.items()
        ]
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, dict):
        return _toml_inline(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def _toml_inline(d: dict) -> str:
    return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in d.items()) + " }"


def plan_to_json(plan: Plan) -> str:
    """Serialise a plan as JSON."""
    return json.dumps(plan.model_dump(), ensure_ascii=False, indent=2)


def segment_spend(pop, segmentation, case: Case) -> dict[str, float]:
    """Each segment's expected monthly spend at list price on the current book, at the case's
    reference population size: what the budget prices rewards and discounts on (the firm's
    forecast from each customer's 12-month history)."""
    names = list(segmentation.names)
    spend = np.bincount(segmentation.labels, pop.list_spend, minlength=len(names))
    scale = case.population.customers / max(pop.n, 1)
    return {name: float(v) * scale for name, v in zip(names, spend, strict=True)}


def budget_use(plan: Plan, case: Case, spend: dict[str, float]) -> dict[str, float]:
    """What a plan spends per month against the budget: money (levers, salaries, acquisition),
    the rate levers' forecast cost (rewards and discounts on the current book) and the total."""
    money = money_cost(plan, case.costs.kam_salary)
    rates = sum(sum(v.values()) for v in rate_cost_forecast(plan, spend).values())
    return {"money": money, "rates": rates, "total": money + rates, "budget": case.budget}


def check_plan(plan: Plan, segments: list[str], case: Case, spend: dict[str, float]) -> list[Issue]:
    """Problems of a plan against the segments that exist and the case budget (empty = ok).
    The budget counts everything: money levers, salaries, acquisition and the forecast cost of
    rewards and discounts on the current book (``segment_spend``)."""
    issues: list[Issue] = []
    known = set(segments)
    for seg in plan.allocations:
        if seg not in known:
            issues.append(
                Issue(
                    f"allocations.{seg}",
                    "unknown_segment",
                    {"segment": seg, "known": ", ".join(segments)},
                )
            )
    if plan.new_customer_segment and plan.new_customer_segment not in known:
        issues.append(
            Issue(
                "new_customer_segment",
                "unknown_segment",
                {"segment": plan.new_customer_segment, "known": ", ".join(segments)},
            )
        )
    for ch in plan.acquisition:
        if ch not in case.acquisition:
            issues.append(Issue(f"acquisition.{ch}", "channel_not_in_case", {"channel": ch}))
    use = budget_use(plan, case, spend)
    if use["total"] > case.budget * (1 + 1e-9):
        issues.append(
            Issue(
                "allocations",
                "over_budget",
                {
                    "total": f"{use['total']:,.0f}",
                    "budget": f"{case.budget:,.0f}",
                    "currency": case.currency,
                },
            )
        )
    return issues


def check_plan_for_case(plan: Plan, case: Case) -> list[Issue]:
    """Problems of a plan against a case before any customer is seen: its segmentation's
    method and parameters (the very checks a segmentation makes), then the segments those
    give, the budget and the channels. Every plan file gets these — uploaded, validated on
    the command line, or a case's status quo."""
    from crmsim.segmentation import case_columns, segment_names, spec_issues

    spec = plan.segmentation
    issues = spec_issues(spec.method, spec.params, case_columns(case))
    if issues:
        return issues
    # the rate levers' forecast cost needs the customers' spend: counted where they exist
    return check_plan(plan, segment_names(spec.method, spec.params) or [], case, {})


def validate_plan(plan: Plan, segments: list[str], case: Case, spend: dict[str, float]) -> Plan:
    """Return the plan if it fits the segments and budget, else raise ``InputError``."""
    issues = check_plan(plan, segments, case, spend)
    if issues:
        raise InputError(issues, plan.name)
    return plan


# -- presets -------------------------------------------------------------------------------
LEVER_MIX = {"care": 0.5, "recovery": 0.25, "cross_sell": 0.25}


def _money_levers(total: float) -> dict[str, float]:
    return {k: float(np.floor(total * share * 100) / 100) for k, share in LEVER_MIX.items()}


def preset_plan(name: str, case: Case, segmentation=None, n_customers: int | None = None) -> Plan:
    """A ready-made plan with the status quo's monthly money (levers and managers) split by the
    preset's rule, and its acquisition (no rewards or discounts).

    ``segmentation`` (a ``segmentation.Segmentation``) gives the segments and their sizes for
    ``equal`` and ``value``; ``pyramid`` and ``key_first`` always use the customer pyramid.
    Amounts are for the case's reference population size, like every plan.
    """
    sq = case.status_quo
    if name == "status_quo":
        return sq.model_copy(deep=True)
    if name == "zero":
        return Plan(name="zero", segmentation=sq.segmentation.model_copy(deep=True))
    if name not in PRESETS:
        raise InputError(
            [Issue("preset", "unknown_preset", {"name": name[:40], "known": ", ".join(PRESETS)})],
            "preset",
        )
    budget = sum(lv.money(case.costs.kam_salary) for lv in sq.allocations.values())
    acquisition = dict(sq.acquisition)
    if name in ("pyramid", "key_first") or segmentation is None:
        from crmsim.segmentation import PYRAMID

        names = list(PYRAMID)
        counts = np.array([0.1, 0.3, 0.6]) * case.population.customers
        spec = SegmentationSpec(method="pyramid")
        revenue_share = None
    else:
        names = list(segmentation.names)
        prof = segmentation.profile
        n = max(int(prof["count"].sum()), 1) if n_customers is None else n_customers
        counts = prof["count"].to_numpy(float) * case.population.customers / n
        revenue_share = prof["revenue_share"].to_numpy(float)
        spec = SegmentationSpec(method=segmentation.method, params=segmentation.params or {})
    alloc: dict[str, Levers] = {}
    if name == "equal":
        weights = counts / max(counts.sum(), 1)
    elif name == "value":
        weights = (
            revenue_share
            if revenue_share is not None and revenue_share.sum() > 0
            else (counts / max(counts.sum(), 1))
        )
    elif name == "pyramid":
        weights = np.array([0.6, 0.3, 0.1])
    else:  # key_first: managers for the key accounts, then care tilted to the top
        managers = int(
            min(
                np.ceil(counts[0] / case.costs.kam_accounts),
                np.floor(0.75 * budget / case.costs.kam_salary),
            )
        )
        rest = budget - managers * case.costs.kam_salary
        weights = np.array([0.5, 0.3, 0.2])
        for seg, w in zip(names, weights, strict=True):
            alloc[seg] = Levers(**_money_levers(rest * w), kam=managers if seg == "key" else 0)
        return Plan(name="key_first", segmentation=spec, allocations=alloc, acquisition=acquisition)
    for seg, w in zip(names, weights, strict=True):
        alloc[seg] = Levers(**_money_levers(budget * float(w)))
    return Plan(name=name, segmentation=spec, allocations=alloc, acquisition=acquisition)


def without(plan: Plan, lever: str | None = None, segment: str | None = None) -> Plan:
    """The plan with one lever switched off everywhere, or one segment's allocation removed:
    the counterfactual for that lever's or segment's return."""
    allocations = {}
    for seg, lv in plan.allocations.items():
        if seg == segment:
            continue
        allocations[seg] = lv.model_copy(update={lever: 0}) if lever else lv
    return plan.model_copy(update={"allocations": allocations, "name": f"{plan.name}-"})
