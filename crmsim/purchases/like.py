"""A synthetic population like a purchase log's customers (the Real data page's last step),
and the comparison of the synthetic book with the real one.

The fitted heterogeneity goes into the population and its purchase process (docs/model.md §1):
BG/NBD's purchase rates λ ~ Gamma(r, α) become ``purchase_rate`` (mean r/α a month) and
``purchase_shape`` r; its dropout p ~ Beta(a, b) becomes the frailty θ (``base_churn`` a/(a+b),
``frailty_concentration`` a+b), and in a shop dropout can only follow a purchase; Gamma-Gamma's
(p, q, v) become ``spend_per_purchase``; the customers' first purchases become the cohort
``first_purchase_months``, so the book holds, as the log does, customers who already left.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from crmsim.purchases.models import BGNBD, GammaGamma
from crmsim.purchases.summary import UNITS

DAYS_PER_MONTH = UNITS["M"]
CURRENCY_SIGNS = (("¥", "CNY"), ("元", "CNY"), ("£", "GBP"), ("€", "EUR"), ("$", "USD"))


def guess_currency(raw_amounts: pd.Series | None, default: str = "USD") -> str:
    """The currency a log's amounts are written in, from their signs (¥ / 元 → CNY, £, €, $);
    ``default`` when they carry none (the page lets the user say)."""
    if raw_amounts is None or not len(raw_amounts):
        return default
    text = "".join(raw_amounts.astype(str).head(2000))
    for sign, code in CURRENCY_SIGNS:
        if sign in text:
            return code
    return default


def _cohort(summary: pd.DataFrame, unit: str) -> tuple[float, float]:
    """How many months before the calibration end the customers first bought (2nd–98th
    percentile), inside the 12-month history."""
    months = summary["T"].to_numpy(float) * UNITS[unit] / DAYS_PER_MONTH
    low, high = np.percentile(months, [2, 98])
    high = float(np.clip(high, 1.0, 11.99))
    return float(np.clip(low, 0.0, high)), high


def _dropout_scale(case, seed: int = 11, n: int = 3000, months: int = 6) -> float:
    """How much the simulator's hazard under the status quo (loyalty, satisfaction, tenure
    and the rest, docs/model.md §3 step 8) lowers dropout after a purchase below the frailty
    θ alone: realised dropouts over ``months`` of a probe population against Σ P(buy)·θ of
    its customers still buying. BG/NBD's p is the whole dropout, so θ is raised by this."""
    from crmsim.model.run import simulate
    from crmsim.population import generate

    pop = generate(case, n, seed=seed)
    lam = pop.traits.purchase_rate.astype(float)
    theta = 1 / (1 + np.exp(-pop.traits.logit_theta.astype(float)))
    q = 1 - np.exp(-lam)
    expected = 0.0
    alive = np.ones(n)
    for _ in range(months):  # the expected dropouts if the hazard were θ alone
        expected += float((alive * q * theta).sum())
        alive *= 1 - q * theta
    plan = case.status_quo.model_copy(update={"acquisition": {}})
    churned = float(simulate(pop, case, plan, months=months, seed=seed).monthly["churned"].sum())
    return float(np.clip(expected / max(churned, 1.0), 1.0, 5.0))


def population_like(
    summary: pd.DataFrame,
    bg: BGNBD,
    unit: str,
    base,
    name: str = "",
    gg: GammaGamma | None = None,
    currency: str = "USD",
):
    """A case whose customers are drawn to behave like the log's (``summary`` from
    ``rfm_summary``, ``bg`` and ``gg`` its fits in ``unit``); ``base`` (a ``cases.Case``) lends
    costs, budget and status quo, every amount scaled to the data's spend level. Title,
    narrative, objectives and currency are the data's own."""
    per_month = DAYS_PER_MONTH / UNITS[unit]
    dropout = bg.a / (bg.a + bg.b)
    update = _population_fit(summary, bg, gg, unit)
    pop = base.population.model_copy(update=update)
    # BG/NBD's purchase rates are stationary while a customer is alive: the same odds in
    # 考察/形成/稳定期; 退化期 keeps the base case's lower spend
    model = base.model.model_copy(
        update={"stage_spend": (1.0, 1.0, 1.0, base.model.stage_spend[3])}
    )
    months = np.maximum(summary["T"].to_numpy(float) / per_month, 1.0)
    monthly = summary["total_spend"].to_numpy(float) / months
    spend = float(np.median(monthly[monthly > 0]))
    base_spend = _base_monthly_spend(base)
    money = _scaled_money(base, spend / base_spend)
    digest = hashlib.sha256(summary.to_csv().encode()).hexdigest()[:8]
    label = name or digest
    top20 = _top_share(summary["total_spend"].to_numpy(float))
    repeat = float((summary["frequency"] > 0).mean())
    made = base.model_copy(
        update={
            "id": f"like_{digest}",
            "version": "data",
            "kind": "noncontractual",
            "currency": currency,
            "population": pop,
            "model": model,
            **_story(bg, base, label, spend, dropout, repeat, top20),
            "debrief": [],
            "events": [],
            "targets": base.targets.model_copy(
                update={
                    "monthly_churn": (0.0, 0.5),
                    "top20_revenue_share": (max(top20 - 0.1, 0.0), min(top20 + 0.1, 1.0)),
                }
            ),
            **money,
        }
    )
    for _ in range(2):  # dropout after a purchase as BG/NBD's p, not lowered by the hazard
        scale = _dropout_scale(made)
        churn = float(np.clip(made.population.base_churn * scale, 1e-3, 0.5))
        made = made.model_copy(
            update={"population": made.population.model_copy(update={"base_churn": churn})}
        )
    return made


def _population_fit(summary: pd.DataFrame, bg: BGNBD, gg: GammaGamma | None, unit: str) -> dict:
    """The population's parameters from the fits: BG/NBD's purchase rate, its shape and the
    dropout after a purchase, the log's cohort and first purchases, Gamma-Gamma's spend per
    purchase (or the mean when amounts are all alike)."""
    per_month = DAYS_PER_MONTH / UNITS[unit]
    cohort = _cohort(summary, unit)
    rate = bg.r / bg.alpha * per_month
    dropout = bg.a / (bg.a + bg.b)
    update = {
        "purchase_rate": float(np.clip(rate, 1e-3, 30)),
        "purchase_shape": float(np.clip(bg.r, 1e-3, 1000)),
        "base_churn": float(np.clip(dropout, 1e-3, 0.5)),
        "frailty_concentration": float(np.clip(bg.a + bg.b, 1.0, 200.0)),
        "first_purchase_months": cohort,
        "new_share": 0.0,
        "first_spend_ratio": _first_spend_ratio(summary),
        "customers": int(np.clip(len(summary), 100, 100_000)),
    }
    if gg is not None and gg.q > 1 and not gg.at_bound:
        update["spend_per_purchase"] = (float(gg.p), float(gg.q), float(gg.v))
    else:  # no usable spend model (constant amounts: at the bound): the mean, nearly alike
        days = summary["frequency"].to_numpy(float) + 1
        mean = float(summary["total_spend"].sum() / days.sum())
        update["spend_per_purchase"] = (100.0, 101.0, float(np.clip(mean, 1e-6, 1e9)))
    return update


def _story(bg: BGNBD, base, label: str, spend: float, dropout: float, repeat: float, top20: float):
    """Title, narrative and objectives of a case made from a log, in its own numbers."""
    from crmsim.cases import Bilingual

    return {
        "title": Bilingual(
            zh=f"与你的数据相似的客户（{label}）", en=f"Customers like your data ({label})"
        ),
        "narrative": Bilingual(
            zh=(
                f"这批合成客户按你的交易数据拟合（BG/NBD：r = {bg.r:.3g}，α = {bg.alpha:.3g}，"
                f"a = {bg.a:.3g}，b = {bg.b:.3g}）：每月消费中位数约 {spend:,.2f}，每次购买后"
                f"流失概率均值 {dropout:.1%}，其中已有人悄然离开。成本、预算和现行方案沿用案例"
                f"“{base.title.zh}”，金额按消费水平等比例缩放。"
            ),
            en=(
                f"These synthetic customers are fitted to your transactions (BG/NBD: "
                f"r = {bg.r:.3g}, α = {bg.alpha:.3g}, a = {bg.a:.3g}, b = {bg.b:.3g}): "
                f"median monthly spend about {spend:,.2f}, mean dropout after a purchase "
                f"{dropout:.1%}, and some have already quietly left. Costs, budget and "
                f'status quo come from the case "{base.title.en}", with money scaled to '
                f"this spend level."
            ),
        ),
        "objectives": [
            Bilingual(
                zh=f"让更多客户再次购买：数据中只有 {repeat:.0%} 的客户买过第二次。",
                en=f"Bring more customers back: only {repeat:.0%} of them bought twice.",
            ),
            Bilingual(
                zh=f"把服务投向价值所在：前 20% 的客户贡献 {top20:.0%} 的收入。",
                en=f"Serve where the value is: the top 20% bring {top20:.0%} of revenue.",
            ),
        ],
    }


def _first_spend_ratio(summary: pd.DataFrame) -> float:
    """A first purchase's mean spend against a repeat purchase's (Gamma-Gamma describes only
    the repeats): 0.86 on CDNOW."""
    repeat = summary["monetary"].to_numpy(float) * summary["frequency"].to_numpy(float)
    if repeat.sum() <= 0:
        return 1.0
    first = summary["total_spend"].to_numpy(float) - repeat
    ratio = first.mean() / (repeat.sum() / summary["frequency"].sum())
    return float(np.clip(ratio, 0.05, 20.0))


def _top_share(values: np.ndarray, share: float = 0.2) -> float:
    ordered = np.sort(values)[::-1]
    return float(ordered[: max(int(share * len(ordered)), 1)].sum() / max(ordered.sum(), 1e-12))


def _base_monthly_spend(base) -> float:
    from crmsim.population import generate

    spend = generate(base, 4000, seed=1).customers["monetary"].to_numpy(float)
    return float(np.median(spend[spend > 0]))


def _scaled_money(base, factor: float) -> dict:
    """The base case's money (budget, lever costs, channel costs, status-quo amounts) scaled
    so service costs the same relative to what these customers spend."""
    costs = base.costs.model_copy(
        update={
            k: getattr(base.costs, k) * factor
            for k in ("care", "recovery", "cross_sell", "kam_salary")
        }
    )
    channels = {
        ch: spec.model_copy(update={"cost": spec.cost * factor})
        for ch, spec in base.acquisition.items()
    }
    sq = base.status_quo
    allocations = {
        seg: lv.model_copy(
            update={k: getattr(lv, k) * factor for k in ("care", "recovery", "cross_sell")}
        )
        for seg, lv in sq.allocations.items()
    }
    plan = sq.model_copy(
        update={
            "allocations": allocations,
            "acquisition": {ch: v * factor for ch, v in sq.acquisition.items()},
        }
    )
    return {
        "budget": base.budget * factor,
        "costs": costs,
        "acquisition": channels,
        "status_quo": plan,
    }
