"""Case scenarios loaded from TOML: the built-in cases, instructors' files, and their checks.

The schema itself (``Case`` and its parts) lives in ``crmsim.model.case``; this module reads
files into it, checks what the schema alone cannot (events inside the horizon, the status quo's
segments, channels and budget), lists the built-in cases and runs the calibration check.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from crmsim.errors import InputError, Issue, issues_from_pydantic
from crmsim.model.case import (  # noqa: F401  (re-exported: the schema's public names)
    EVENT_PARAMS,
    MAX_CUSTOMERS,
    MIN_CUSTOMERS,
    Bilingual,
    Case,
    Channel,
    Costs,
    Event,
    EventParam,
    ModelParams,
    PopulationSpec,
    Targets,
)
from crmsim.plans import check_plan_for_case
from crmsim.reading import CASE, read_structured

# The sample data: inside the package when installed (crmsim/_app, see pyproject.toml), at the
# top of the repository in a checkout.
_HERE = Path(__file__).resolve().parent
SAMPLE_DATA = next(
    (d for d in (_HERE / "_app" / "sample_data", _HERE.parent / "sample_data") if d.is_dir()),
    _HERE.parent / "sample_data",
)
CASES_DIR = SAMPLE_DATA / "cases"
MAX_CASE_BYTES = CASE.max_bytes


def parse_case(data: dict, source: str = "case") -> Case:
    """Validate a case mapping; the status-quo plan is checked like any plan file (its
    segmentation's parameters, segments, channels, budget) before the case is accepted."""
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise InputError(issues_from_pydantic(exc), source) from None
    issues = [
        Issue(
            f"events[{i + 1}].month",
            "event_outside_horizon",
            {"month": ev.month, "months": case.months},
        )
        for i, ev in enumerate(case.events)
        if ev.month > case.months
    ]
    issues += [  # the status quo is checked exactly like a plan file, segmentation included
        Issue(f"status_quo.{i.field}" if i.field else "status_quo", i.key, i.params)
        for i in check_plan_for_case(case.status_quo, case)
    ]
    if issues:
        raise InputError(issues, source)
    return case


def load_case_bytes(raw: bytes, source: str = "case") -> Case:
    """Parse case TOML bytes through the reading layer (size cap, UTF-8, depth, finite
    numbers, syntax with line and column), then the schema and the status quo's checks."""
    return parse_case(read_structured(raw, "toml", CASE, source), source)


def builtin_case_ids() -> list[str]:
    """Ids of the cases shipped in ``sample_data/cases`` (templates start with ``_``)."""
    return sorted(p.stem for p in CASES_DIR.glob("*.toml") if not p.stem.startswith("_"))


def load_case(name_or_path: str | Path) -> Case:
    """Load a built-in case by id, or a case file by path."""
    path = Path(name_or_path)
    if not path.suffix and (CASES_DIR / f"{name_or_path}.toml").is_file():
        path = CASES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise InputError(
            [
                Issue(
                    "",
                    "unknown_case",
                    {"name": str(name_or_path)[:80], "known": ", ".join(builtin_case_ids())},
                )
            ],
            str(name_or_path)[:80],
        )
    try:
        raw = path.read_bytes()
    except OSError:
        raise InputError([Issue("", "cannot_read", {"path": path.name})], path.name) from None
    return load_case_bytes(raw, path.name)


def all_builtin_cases() -> dict[str, Case]:
    """Every built-in case by id."""
    return {cid: load_case(cid) for cid in builtin_case_ids()}


def calibration_report(
    case: Case, customers: int | None = None, seed: int = 2024, months: int | None = None
) -> list[dict]:
    """Run the status-quo plan and compare each declared target with what the model does.

    Returns one row per target: name, value, low, high, met. Monthly churn is churned
    customer-months over customer-months at risk; the top-20% share is of 12-month revenue;
    the complaint rate is complaints per customer with a service failure (TARP: ~1 in 26).
    """
    from crmsim.metrics import top_share
    from crmsim.model.run import simulate
    from crmsim.population import generate

    pop = generate(case, customers or case.population.customers, seed=seed)
    res = simulate(pop, case, case.status_quo, months or case.months, seed, sample_size=0)
    m = res.monthly
    values = {
        "monthly_churn": float(m["churned"].sum() / max(m["active_start"].sum(), 1)),
        "top20_revenue_share": top_share(pop.customers["revenue_12m"].to_numpy(), 0.2),
        "complaint_rate": float(m["complaints"].sum() / max(m["failures"].sum(), 1)),
    }
    rows = []
    for name in ("monthly_churn", "top20_revenue_share", "complaint_rate"):
        band = getattr(case.targets, name)
        if band is None:
            continue
        v = values[name]
        rows.append(
            {
                "name": name,
                "value": v,
                "low": band[0],
                "high": band[1],
                "met": band[0] <= v <= band[1],
            }
        )
    return rows
