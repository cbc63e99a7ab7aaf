"""The model's own stylized-facts check (``python -m crmsim facts``): every lesson the course
teaches and every calibration target of DESIGN §3.5, measured in runs of each case.

Each fact is a figure with a target and a verdict. Plans are compared on common random
numbers: seed k draws the population and the month's luck, and every variant of a plan plays on
that same book and luck, so differences are the plan's effect. "Beyond noise" means a paired
mean difference larger than two standard errors over the seeds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from crmsim.metrics import kpis, score, service_cost_npv
from crmsim.model.case import Case
from crmsim.model.month import FAST, RESOLVED, SILENT, UNRESOLVED
from crmsim.model.outputs import SimResult
from crmsim.model.plan import LEVERS, Plan
from crmsim.model.run import simulate, simulate_rounds
from crmsim.plans import budget_use, preset_plan, segment_spend
from crmsim.segmentation import segment_for_case

MIN_CUSTOMERS = 10_000  # statistics on a courseware case's few hundred customers are too noisy
TARP_CUSTOMERS = 40_000  # complaints are rare (TARP: 1 in 26 with a problem): a bigger book
STAY_MONTHS = 12  # TARP's stay rate: still a customer this many months after the problem
SAT_LOW, SAT_HIGH = (0.65, 0.75), 0.9  # Jones–Sasser: churn near S≈0.7 vs S ≥ 0.9
SAT_RATIO = (3.0, 8.0)
WIN_VS_KEEP = 3.0  # "winning a customer costs several times keeping one"
ACQ_SHARES = (0.05, 0.10, 0.95, 1.0)  # of the budget, for the marginal return of acquisition
FORECAST_TOLERANCE = 0.10
ROUNDS = 4  # the final round of a classroom game: the last quarter of the months


@dataclass
class Fact:
    """One fact of one case: the figure, the target it must meet, and whether it does."""

    key: str
    case: str
    value: float | None
    target: str
    passed: bool | None  # None: does not apply to this case
    detail: dict = field(default_factory=dict)


def _gain_ok(gains: list[float]) -> tuple[float, float, bool]:
    """Mean paired gain, its standard error, and whether it stays within noise (≤ 2 SE)."""
    g = np.asarray(gains, float)
    mean = float(g.mean())
    se = float(g.std(ddof=1) / math.sqrt(len(g))) if len(g) > 1 else 0.0
    return mean, se, mean <= 2 * se + 1e-9 * max(1.0, abs(mean))


def scaled(plan: Plan, lever: str, factor: float, name: str | None = None) -> Plan:
    """``plan`` with one lever multiplied by ``factor`` in every segment (rates capped)."""
    alloc = {}
    for seg, lv in plan.allocations.items():
        v = getattr(lv, lever) * factor
        if lever == "kam":
            v = round(v)
        elif lever in ("rewards", "discount"):
            v = min(v, 0.9)
        alloc[seg] = lv.model_copy(update={lever: v})
    return plan.model_copy(update={"allocations": alloc, "name": name or f"{lever}x{factor:g}"})


def without_service(plan: Plan) -> Plan:
    """``plan`` with no service at all (its segmentation kept, no acquisition)."""
    return Plan(name="zero", segmentation=plan.segmentation.model_copy(deep=True))


def without_rates(plan: Plan) -> Plan:
    """``plan`` with rewards and discounts withdrawn."""
    alloc = {
        s: lv.model_copy(update={"rewards": 0.0, "discount": 0.0})
        for s, lv in plan.allocations.items()
    }
    return plan.model_copy(update={"allocations": alloc, "name": "no_rates"})


class CaseRuns:
    """One case's runs for the facts: a book per seed, each plan variant run once per seed."""

    def __init__(self, case: Case, customers: int | None, seeds: Iterable[int]):
        from crmsim.population import generate

        self.case = case
        self.n = customers or max(case.population.customers, MIN_CUSTOMERS)
        self.seeds = list(seeds)
        self.sq = case.status_quo
        self.books = {s: generate(case, self.n, seed=s) for s in self.seeds}
        self.segs = {
            s: segment_for_case(
                b.customers, self.sq.segmentation.method, self.sq.segmentation.params, case, s
            )
            for s, b in self.books.items()
        }
        self._memo: dict[tuple, SimResult] = {}
        self._big: dict[int, tuple] = {}

    def _big_book(self, seed: int):
        """Seed ``seed``'s book at ``TARP_CUSTOMERS`` (complaints are rare: many customers)."""
        from crmsim.population import generate

        if self.n >= TARP_CUSTOMERS:
            return self.books[seed], self.segs[seed]
        if seed not in self._big:
            book = generate(self.case, TARP_CUSTOMERS, seed=seed)
            sq = self.sq.segmentation
            seg = segment_for_case(book.customers, sq.method, sq.params, self.case, seed)
            self._big[seed] = (book, seg)
        return self._big[seed]

    def big_status_quo(self, seed: int) -> SimResult:
        """The status quo on the big book."""
        return self.run("sq", self.sq, seed, big=True)

    def run(self, key: str, plan: Plan | list[Plan], seed: int, big: bool = False) -> SimResult:
        """The run of ``plan`` (or a schedule of round plans) on seed ``seed``'s book (or its
        big book)."""
        memo = (key, seed, big)
        if memo not in self._memo:
            case = self.case
            book, sq_seg = self._big_book(seed) if big else (self.books[seed], self.segs[seed])
            first = plan[0] if isinstance(plan, list) else plan
            seg = sq_seg if self._same_seg(first) else self._seg(first, book, seed)
            if isinstance(plan, list):
                months = case.months // len(plan)
                res = simulate_rounds(book, case, plan, months, seed, seg, 0)
            else:
                res = simulate(book, case, plan, case.months, seed, seg, 0)
            self._memo[memo] = res
        return self._memo[memo]

    def _same_seg(self, plan: Plan) -> bool:
        spec, sq = plan.segmentation, self.sq.segmentation
        return (spec.method, spec.params or {}) == (sq.method, sq.params or {})

    def _seg(self, plan: Plan, book, seed: int):
        spec = plan.segmentation
        return segment_for_case(book.customers, spec.method, spec.params, self.case, seed)

    def each(self, key: str, plan, fn: Callable[[SimResult], float]) -> list[float]:
        return [fn(self.run(key, plan, s)) for s in self.seeds]

    def scores(self, key: str, plan) -> list[float]:
        return self.each(key, plan, lambda r: score(r, self.case))

    def gross_return(self, key: str, plan, key0: str, plan0, big: bool = False) -> float:
        """Value created per unit of the extra money ``plan`` spends over ``plan0`` (1 = breaks
        even), pooled over seeds; money = service spending plus revenue given up by discounts."""
        d_score = d_cost = 0.0
        for s in self.seeds:
            a, b = self.run(key, plan, s, big), self.run(key0, plan0, s, big)
            cost = _spend_npv(a, self.case) - _spend_npv(b, self.case)
            d_score += score(a, self.case) - score(b, self.case)
            d_cost += cost
        return (d_score + d_cost) / d_cost if d_cost > 1e-9 else float("nan")


def _spend_npv(res: SimResult, case: Case) -> float:
    m = res.monthly
    disc = (1 + case.monthly_discount) ** -np.arange(1, len(m) + 1)
    return service_cost_npv(res, case) + float((m["discount_cost"].to_numpy() * disc).sum())


# -- the facts --------------------------------------------------------------------------------
def calibration_bands(cr: CaseRuns) -> list[Fact]:
    """DESIGN §3.5: the status quo's churn, value concentration and complaint rate land in the
    case's bands (churn and complaints from the run, the 80/20 share from the book)."""
    from crmsim.metrics import top_share

    case, out = cr.case, []
    runs = [cr.run("sq", cr.sq, s) for s in cr.seeds]
    churn = float(
        np.mean([r.monthly["churned"].sum() / r.monthly["active_start"].sum() for r in runs])
    )
    top = float(
        np.mean([top_share(b.customers["revenue_12m"].to_numpy()) for b in cr.books.values()])
    )
    comp = float(
        np.mean([r.monthly["complaints"].sum() / max(r.monthly["failures"].sum(), 1) for r in runs])
    )
    for key, value, band in (
        ("churn_band", churn, case.targets.monthly_churn),
        ("top20_band", top, case.targets.top20_revenue_share),
        ("complaint_band", comp, case.targets.complaint_rate),
    ):
        if band is None:
            out.append(Fact(key, case.id, value, "—", None))
        else:
            out.append(
                Fact(
                    key, case.id, value, f"[{band[0]:g}, {band[1]:g}]", band[0] <= value <= band[1]
                )
            )
    return out


def tarp_order(cr: CaseRuns) -> list[Fact]:
    """TARP: among customers with a problem, the share still a customer 12 months later orders
    silent < complained, unresolved < resolved < resolved fast, for small and for large problems
    alike (TARP reports them apart: who complains is not who stays silent)."""
    outcomes = (SILENT, UNRESOLVED, RESOLVED, FAST)
    counts = {(major, k): [0, 0] for major in (False, True) for k in outcomes}
    for s in cr.seeds:
        res = cr.big_status_quo(s)
        c = res.customers
        month = c["problem_month"].to_numpy()
        problem, major = c["problem"].to_numpy(), c["problem_major"].to_numpy()
        had = (problem > 0) & (month > 0) & (month <= res.months - STAY_MONTHS)
        churn = c["churn_month"].to_numpy()
        stayed = (churn < 0) | (churn > month + STAY_MONTHS)
        for (big, k), n in counts.items():
            hit = had & (problem == k) & (major == big)
            n[0] += int(hit.sum())
            n[1] += int((hit & stayed).sum())
    names = ("silent", "unresolved", "resolved", "fast")
    out = []
    for big, size in ((False, "small"), (True, "large")):
        stay = [
            n_stayed / n if n else float("nan")
            for n, n_stayed in (counts[(big, k)] for k in outcomes)
        ]
        ok = all(np.isfinite(stay)) and all(a < b for a, b in itertools.pairwise(stay))
        detail = {f"stay_{n}": v for n, v in zip(names, stay, strict=True)}
        detail["n"] = {n: counts[(big, k)][0] for n, k in zip(names, outcomes, strict=True)}
        target = "silent < unresolved < resolved < fast"
        out.append(Fact(f"tarp_{size}", cr.case.id, stay[3] - stay[0], target, ok, detail))
    return out


def satisfaction_matters(cr: CaseRuns) -> list[Fact]:
    """Jones–Sasser (Xerox): the monthly churn of customers near S ≈ 0.7 is 3–8× that of
    customers with S ≥ 0.9, in the status quo's own run."""
    risk = churned = 0
    for s in cr.seeds:
        res = cr.run("sq", cr.sq, s)
        risk = risk + res.sat_risk.sum(axis=0)
        churned = churned + res.sat_churn.sum(axis=0)
    bins = np.arange(len(risk)) / len(risk)
    low = (bins >= SAT_LOW[0] - 1e-9) & (bins < SAT_LOW[1] - 1e-9)
    high = bins >= SAT_HIGH - 1e-9
    rate_low = churned[low].sum() / max(risk[low].sum(), 1)
    rate_high = churned[high].sum() / max(risk[high].sum(), 1)
    ratio = float(rate_low / rate_high) if rate_high > 0 else float("inf")
    detail = {
        "churn_near_0_7": float(rate_low),
        "churn_above_0_9": float(rate_high),
        "n_high": int(risk[high].sum()),
    }
    ok = SAT_RATIO[0] <= ratio <= SAT_RATIO[1]
    return [
        Fact(
            "sat_churn_ratio",
            cr.case.id,
            ratio,
            f"[{SAT_RATIO[0]:g}, {SAT_RATIO[1]:g}]",
            ok,
            detail,
        )
    ]


def _acquisition_plan(cr: CaseRuns, share: float) -> Plan:
    """The status quo's service with ``share`` of the budget on acquisition, split over the
    channels the case offers by the status quo's mix (equally when it buys none)."""
    offered = [ch for ch in cr.case.acquisition]
    mix = {ch: cr.sq.acquisition.get(ch, 0.0) for ch in offered}
    total = sum(mix.values())
    weights = {ch: (v / total if total else 1 / len(offered)) for ch, v in mix.items()}
    money = share * cr.case.budget
    acq = {ch: money * w for ch, w in weights.items() if w > 0}
    return cr.sq.model_copy(update={"acquisition": acq, "name": f"acq{share:g}"})


def acquisition_saturates(cr: CaseRuns) -> list[Fact]:
    """Prospect pools are finite: the marginal return of acquisition money at 100% of the
    budget is below a third of its value at 5%."""
    if not cr.case.acquisition:
        return [Fact("acquisition_saturates", cr.case.id, None, "—", None)]
    plans = {0.0: _acquisition_plan(cr, 0.0), **{s: _acquisition_plan(cr, s) for s in ACQ_SHARES}}
    first = cr.gross_return("acq0.05", plans[0.05], "acq0", plans[0.0])
    last = cr.gross_return("acq1", plans[1.0], "acq0.95", plans[0.95])
    ok = bool(np.isfinite(first) and np.isfinite(last) and last < first / 3)
    detail = {"return_at_5pct": first, "return_at_100pct": last}
    return [
        Fact(
            "acquisition_saturates",
            cr.case.id,
            last / first if first else None,
            "< 1/3",
            ok,
            detail,
        )
    ]


def win_vs_keep(cr: CaseRuns) -> list[Fact]:
    """Winning a customer costs several times keeping one: even the cheapest new customer (a
    channel's cost at low volume, the status quo's channels weighted by its money, else every
    channel but referral) costs several times a year of the status quo's retention spending
    per customer. A case written as a growth story is exempt (it says so)."""
    case = cr.case
    channels = {ch: m for ch, m in cr.sq.acquisition.items() if m > 0 and ch in case.acquisition}
    if not channels:
        channels = {ch: 1.0 for ch in case.acquisition if ch != "referral"}
    if not channels:
        return [Fact("win_vs_keep", case.id, None, "—", None)]
    cac = sum(case.acquisition[ch].cost * w for ch, w in channels.items()) / sum(channels.values())
    spend = segment_spend(cr.books[cr.seeds[0]], cr.segs[cr.seeds[0]], case)
    use = budget_use(cr.sq, case, spend)
    keep = (use["total"] - sum(cr.sq.acquisition.values())) * 12 / case.population.customers
    ratio = cac / keep if keep > 0 else float("inf")
    detail = {"cost_per_new_customer": cac, "keep_cost_per_customer_year": keep}
    if case.growth_story:
        return [Fact("win_vs_keep", case.id, ratio, "growth story", None, detail)]
    return [Fact("win_vs_keep", case.id, ratio, f"≥ {WIN_VS_KEEP:g}", ratio >= WIN_VS_KEEP, detail)]


def complaints_pay(cr: CaseRuns) -> list[Fact]:
    """服务补救 pays: at the status-quo dose, complaint money returns more than it costs, in
    the cases whose targets say failures are material."""
    no_rec = scaled(cr.sq, "recovery", 0.0, "recoveryx0")
    value = cr.gross_return("sq", cr.sq, no_rec.name, no_rec, big=True)
    if not cr.case.targets.complaint_money_pays:
        return [Fact("complaints_pay", cr.case.id, value, "—", None)]
    return [Fact("complaints_pay", cr.case.id, value, "> 1", bool(value > 1))]


def over_serving(cr: CaseRuns) -> list[Fact]:
    """Diminishing returns, no cliff: twice the status quo's dose of any lever it uses never
    lowers retention beyond noise, and the return at 4× stays below the return at 1×."""
    out = []
    retention = lambda r: kpis(r, cr.case)["retention_rate"]  # noqa: E731
    base = cr.each("sq", cr.sq, retention)
    for lever in LEVERS:
        if not any(getattr(lv, lever) > 0 for lv in cr.sq.allocations.values()):
            continue
        double = scaled(cr.sq, lever, 2.0)
        diffs = [b - a for a, b in zip(base, cr.each(double.name, double, retention), strict=True)]
        mean, se, _ = _gain_ok([-d for d in diffs])  # a loss of retention is a "gain" < noise
        ok2 = mean <= 2 * se + 1e-9
        out.append(
            Fact(f"twice_{lever}", cr.case.id, float(np.mean(diffs)), "≥ −2 SE", ok2, {"se": se})
        )
        zero, quad = scaled(cr.sq, lever, 0.0), scaled(cr.sq, lever, 4.0)
        big = lever == "recovery"  # complaints are rare: their money is measured on many
        r1 = cr.gross_return("sq", cr.sq, zero.name, zero, big)
        r4 = cr.gross_return(quad.name, quad, zero.name, zero, big)
        ok4 = bool(np.isfinite(r1) and np.isfinite(r4) and r4 < r1)
        out.append(Fact(f"return_4x_{lever}", cr.case.id, r4, f"< {r1:.2f} (1×)", ok4))
    return out


def budget_forecast(cr: CaseRuns) -> list[Fact]:
    """A budget is a budget: the status quo's forecast spending (rewards and discounts priced
    on the current book) fits the budget, and the run's actual spending is within ±10% of it."""
    case = cr.case
    actual, forecast = [], []
    for s in cr.seeds:
        spend = segment_spend(cr.books[s], cr.segs[s], case)
        use = budget_use(cr.sq, case, spend)
        m = cr.run("sq", cr.sq, s).monthly
        scale = case.population.customers / cr.n
        act = (m["service_cost"] + m["discount_cost"]).mean() * scale
        actual.append(float(act))
        forecast.append(use["total"])
    ratio = float(np.mean(actual) / np.mean(forecast)) - 1
    fits = np.mean(forecast) <= case.budget * (1 + 1e-9)
    detail = {
        "forecast": float(np.mean(forecast)),
        "actual": float(np.mean(actual)),
        "budget": case.budget,
    }
    return [
        Fact(
            "forecast_fits_budget",
            case.id,
            float(np.mean(forecast)) / case.budget,
            "≤ 1",
            bool(fits),
            detail,
        ),
        Fact(
            "forecast_error",
            case.id,
            ratio,
            f"±{FORECAST_TOLERANCE:.0%}",
            abs(ratio) <= FORECAST_TOLERANCE,
            detail,
        ),
    ]


def no_window_dressing(cr: CaseRuns) -> list[Fact]:
    """Score the relationship, not the last month: no change confined to the final month or
    the final round (a quarter of the months) improves the score beyond noise."""
    case, out = cr.case, []
    base = cr.scores("sq", cr.sq)
    T = case.months
    variants = {
        "final_month_no_service": [cr.sq] * (T - 1) + [without_service(cr.sq)],
        "final_month_no_rates": [cr.sq] * (T - 1) + [without_rates(cr.sq)],
    }
    if T % ROUNDS == 0:
        variants["final_round_no_service"] = [cr.sq] * (ROUNDS - 1) + [without_service(cr.sq)]
        variants["final_round_no_rates"] = [cr.sq] * (ROUNDS - 1) + [without_rates(cr.sq)]
    for key, schedule in variants.items():
        if key.endswith("no_rates") and not any(
            lv.rewards or lv.discount for lv in cr.sq.allocations.values()
        ):
            continue
        gains = [b - a for a, b in zip(base, cr.scores(key, schedule), strict=True)]
        mean, se, ok = _gain_ok(gains)
        rel = mean / abs(float(np.mean(base)))
        out.append(Fact(f"dress_{key}", case.id, rel, "≤ 2 SE", ok, {"gain": mean, "se": se}))
    return out


def what_works(cr: CaseRuns) -> list[Fact]:
    """What the first audit confirmed still holds: no service loses to the status quo, a 30%
    blanket discount loses, and in B2B cases key accounts first beats an equal split."""
    case = cr.case
    base = cr.scores("sq", cr.sq)
    zero = cr.scores("zero", without_service(cr.sq))
    disc = {s: lv.model_copy(update={"discount": 0.3}) for s, lv in cr.sq.allocations.items()}
    blanket = cr.sq.model_copy(update={"allocations": disc, "name": "discount30"})
    d30 = cr.scores("discount30", blanket)
    out = [
        Fact(
            "zero_service_loses",
            case.id,
            float(np.mean(zero) / np.mean(base)),
            "< 1",
            bool(np.mean(zero) < np.mean(base)),
        ),
        Fact(
            "blanket_discount_loses",
            case.id,
            float(np.mean(d30) / np.mean(base)),
            "< 1",
            bool(np.mean(d30) < np.mean(base)),
        ),
    ]
    if case.population.names == "company":
        seed = cr.seeds[0]
        seg = segment_for_case(cr.books[seed].customers, "pyramid", {}, case, seed)
        key_first = preset_plan("key_first", case, seg, cr.n)
        equal = preset_plan("equal", case, seg, cr.n)
        kf, eq = cr.scores("key_first", key_first), cr.scores("equal", equal)
        gain = float(np.mean(kf) / np.mean(eq) - 1)
        out.append(Fact("key_accounts_first", case.id, gain, "> 0", gain > 0))
    return out


FACTS: tuple[Callable[[CaseRuns], list[Fact]], ...] = (
    calibration_bands,
    tarp_order,
    satisfaction_matters,
    acquisition_saturates,
    win_vs_keep,
    complaints_pay,
    over_serving,
    budget_forecast,
    no_window_dressing,
    what_works,
)


def check_case(
    case: Case, customers: int | None = None, seeds: Iterable[int] = (1, 2, 3)
) -> list[Fact]:
    """Every fact of one case."""
    cr = CaseRuns(case, customers, seeds)
    return [fact for check in FACTS for fact in check(cr)]


def failed(facts: list[Fact]) -> list[Fact]:
    """The facts that apply and do not hold."""
    return [f for f in facts if f.passed is False]
