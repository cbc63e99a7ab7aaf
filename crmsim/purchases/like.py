"""A synthetic population like a purchase log's customers (the Real data page's last step)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from crmsim.purchases.models import BGNBD
from crmsim.purchases.summary import UNITS


def population_like(summary: pd.DataFrame, bg: BGNBD, unit: str, base, name: str = ""):
    """A case like ``base`` (a ``cases.Case``) whose customers are drawn to look like these:
    the wallet's median and spread from the customers' monthly spend, the purchase rate from
    purchase days per month, the dropout frailty from the BG/NBD Beta(a, b) (mean a/(a+b),
    concentration a+b), non-contractual buying. Money amounts of the base case are kept for its
    reference population size, so the plans and budget scale as usual."""
    from crmsim.population import generate

    per_month = UNITS["M"] / UNITS[unit]
    months = np.maximum(summary["T"].to_numpy(float) / per_month, 1.0)
    monthly = summary["total_spend"].to_numpy(float) / months
    monthly = monthly[monthly > 0]
    log_spend = np.log(monthly)
    rate = float((summary["frequency"].sum() + len(summary)) / months.sum())
    pop = base.population.model_copy(
        update={
            "purchase_rate": float(np.clip(rate, 0.05, 30)),
            "base_churn": float(np.clip(bg.a / (bg.a + bg.b), 0.001, 0.5)),
            "frailty_concentration": float(np.clip(bg.a + bg.b, 1.0, 200.0)),
            "wallet_median": 1.0,
            "wallet_sigma": 1.0,
        }
    )
    trial = base.model_copy(update={"population": pop, "kind": "noncontractual"})
    # spend is proportional to the wallet: one probe population fixes the scale and spread
    base_spend = generate(base, 4000, seed=1).customers["monetary"].to_numpy(float)
    probe = generate(trial, 4000, seed=1).customers["monetary"].to_numpy(float)
    probe = np.log(probe[probe > 0])
    other_var = max(float(probe.var()) - 1.0, 0.0)
    sigma = float(np.clip(np.sqrt(max(log_spend.var() - other_var, 0.04)), 0.2, 2.5))
    median = float(np.exp(np.median(log_spend) - np.median(probe) * sigma))
    median = float(np.clip(median, 1e-3, 1e9))  # inside the case schema's range, whatever the data
    pop = pop.model_copy(update={"wallet_median": median, "wallet_sigma": sigma})
    spend = float(np.exp(np.median(log_spend)))
    dropout = bg.a / (bg.a + bg.b)
    money = _scaled_money(base, spend / float(np.median(base_spend[base_spend > 0])))
    digest = hashlib.sha256(summary.to_csv().encode()).hexdigest()[:8]
    label = name or digest
    from crmsim.cases import Bilingual

    return base.model_copy(
        update={
            "id": f"like_{digest}",
            "version": "data",
            "kind": "noncontractual",
            "population": pop,
            "title": Bilingual(
                zh=f"与你的数据相似的客户（{label}）", en=f"Customers like your data ({label})"
            ),
            "narrative": Bilingual(
                zh=(
                    f"这批合成客户按你上传的交易数据拟合：每月消费中位数约 {spend:,.2f}，"
                    f"每月购买 {rate:.2f} 次，每次购买后流失概率均值 {dropout:.1%}"
                    f"（BG/NBD）。成本、预算和现行方案沿用案例“{base.title.zh}”，金额按消费水平等比例缩放。"
                ),
                en=(
                    f"These synthetic customers are fitted to your transactions: median monthly "
                    f"spend about {spend:,.2f}, {rate:.2f} purchases a month, "
                    f"mean dropout after a purchase {dropout:.1%} (BG/NBD). Costs, "
                    f'budget and status quo come from the case "{base.title.en}", with money '
                    f"scaled to this spend level."
                ),
            ),
            "events": [],
            **money,
        }
    )


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
