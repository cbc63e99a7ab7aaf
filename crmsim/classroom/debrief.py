"""The debrief workbook and the words of the classroom's result tables (headers, rounding,
segments and channels named as the pages name them)."""

from __future__ import annotations

import pandas as pd

from crmsim import exports
from crmsim.classroom import scoring
from crmsim.i18n import Lang, t
from crmsim.plans import LEVERS, Plan


def column_names(lang: Lang) -> dict[str, str]:
    """Headers of the results and leaderboard tables in ``lang``."""
    return {
        "rank": "#",
        "team": t("room.teams", lang),
        "round": t("room.round", lang),
        "score": t("room.score", lang),
        **{k: t(f"kpi.{k}", lang) for k in scoring.RESULT_KPIS},
    }


# Decimals kept in a debrief workbook for people: money whole, shares and rates to 0.1 point.
_DECIMALS = {
    **dict.fromkeys(("npv", "customer_equity_end", "profit", "care", "recovery", "cross_sell"), 0),
    **dict.fromkeys(("retention_rate", "rewards", "discount"), 4),
    "avg_satisfaction_end": 3,
    "score": 1,
}


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.round({c: d for c, d in _DECIMALS.items() if c in frame.columns})


def _readable_plans(plans: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Segments and channels named as the pages name them (not key, acquisition:online)."""
    if plans.empty:
        return plans

    def word(code: str) -> str:
        if code.startswith("acquisition:"):
            channel = code.split(":", 1)[1]
            return f"{t('plan_page.acquisition', lang)} · {t(f'channel.{channel}', lang)}"
        if code.startswith("cluster_"):
            return t("seg.cluster", lang, n=code.split("_", 1)[1])
        text = t(f"seg.{code}", lang)
        return code if text == f"seg.{code}" else text

    return plans.assign(segment=[word(str(s)) for s in plans["segment"]])


def workbook(
    plans: dict[str, dict[int, Plan]],
    leaderboard: pd.DataFrame,
    results: pd.DataFrame,
    lang: Lang | None,
) -> bytes:
    """The debrief workbook: leaderboard, teams × rounds × KPIs and every plan of every team
    (``plans``: team name → round → plan); sheet names and headers in ``lang`` (None: the
    column keys, for scripts)."""
    rows = []
    for name, by_round in plans.items():
        for rnd, plan in sorted(by_round.items()):
            for seg, lv in plan.allocations.items():
                rows.append({"team": name, "round": rnd, "segment": seg, **lv.model_dump()})
            for ch, money in plan.acquisition.items():
                rows.append(
                    {"team": name, "round": rnd, "segment": f"acquisition:{ch}", "care": money}
                )
    sheets = {"leaderboard": leaderboard, "results": results, "plans": pd.DataFrame(rows)}
    if lang is not None:  # for people: their words, numbers rounded as a table shows them
        sheets["plans"] = _readable_plans(sheets["plans"], lang)
        sheets = {k: _rounded(v) for k, v in sheets.items()}
        names = {**column_names(lang), "segment": t("plan_page.segment", lang)}
        names |= {lv: t(f"lever.{lv}", lang) for lv in LEVERS}
        sheets = {t(f"room.{k}", lang): v.rename(columns=names) for k, v in sheets.items()}
    return exports.xlsx_bytes(sheets)  # team names such as =HYPERLINK(...) stay text
