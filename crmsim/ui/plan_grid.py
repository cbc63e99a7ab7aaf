"""The Service plan page's segments × levers grid, acquisition inputs and cost table."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import streamlit as st

from crmsim.cases import Case
from crmsim.charts import segment_label
from crmsim.errors import InputError
from crmsim.i18n import Lang, t
from crmsim.model.levers import cell_dose, lever_guide
from crmsim.money import currency_name, money, with_currency
from crmsim.plans import (
    LEVERS,
    Levers,
    Plan,
    SegmentationSpec,
    budget_use,
    check_plan,
)
from crmsim.population import Population
from crmsim.segmentation import Segmentation
from crmsim.ui.plan_state import keep_plan, plan_version, set_plan
from crmsim.ui.problems import over_budget_text, plan_file_text, plan_problem
from crmsim.ui.uploads import read_plan_upload

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


def lever_help(lever: str, case_obj: Case, lang: Lang) -> str:
    """A lever column's help: what it does, its unit and cost in this case, and where more
    stops helping — the sweet spot computed from the case's model (``levers.lever_guide``)."""
    g = lever_guide(case_obj)[lever]
    cur = case_obj.currency
    if lever == "kam":
        salary = with_currency(money(case_obj.costs.kam_salary, lang), cur, lang)
        unit = t("lever_help.kam", lang, salary=salary)
        sweet = t(
            "lever_help.sweet_kam",
            lang,
            accounts=case_obj.costs.kam_accounts,
            per=f"{g.sweet_spot:.0f}",
        )
    elif lever in RATE_COLUMNS:
        unit = t(f"lever_help.{lever}", lang)
        rate = g.sweet_spot if lever == "rewards" else g.over_serving or 0.0
        sweet = t(f"lever_help.sweet_{lever}", lang, rate=f"{rate:.0%}")
    else:
        unit = t("lever_help.money", lang, currency=currency_name(cur, lang))
        over = with_currency(_per_unit(g.over_serving or 0.0, lang), cur, lang)
        key = "sweet_recovery" if lever == "recovery" else "sweet_money"
        sweet = t(
            f"lever_help.{key}",
            lang,
            sweet=with_currency(_per_unit(g.sweet_spot, lang), cur, lang),
            over=over,
        )
    return f"{t(f'lever_help.what_{lever}', lang)} {unit}. {sweet}"


def lever_reference(case_obj: Case, lang: Lang) -> None:
    """The levers of this case, one line each: what it does, unit and cost, sweet spot."""
    with st.expander(t("lever_help.reference", lang)):
        st.markdown(
            "\n".join(
                f"- **{t(f'lever.{lever}', lang)}**: {lever_help(lever, case_obj, lang)}"
                for lever in LEVERS
            )
        )


def scroll_hint(lang: Lang) -> None:
    """On a narrow screen (a phone), say that the table scrolls sideways to more levers."""
    st.html(
        "<style>.crm-scroll-hint{display:none;color:#555;font-size:0.85rem}"
        "@media (max-width: 720px){.crm-scroll-hint{display:block}}</style>"
        f"<div class='crm-scroll-hint'>{html.escape(t('plan_page.scroll_hint', lang))}</div>"
    )


def dose_table(
    plan: Plan, seg: Segmentation, case_obj: Case, pop, spend: dict[str, float], lang: Lang
) -> pd.DataFrame:
    """Where each setting sits against the model's sweet spot, cell by cell: money per customer
    (care, marketing) or per complaint (complaint handling, from the book's complaints), the
    accounts the managers cover, and the forecast monthly cost of rewards and discounts."""
    scale = case_obj.population.customers / max(pop.n, 1)
    counts = np.bincount(seg.labels, minlength=len(seg.names)) * scale
    complaints = pop.customers["complaints_12m"].to_numpy(float)
    per_month = np.bincount(seg.labels, complaints, minlength=len(seg.names)) * scale / 12
    cur = case_obj.currency
    rows = []
    for i, name in enumerate(seg.names):
        lv = plan.allocations.get(name, Levers())
        row = {t("plan_page.segment", lang): segment_label(name, lang)}
        for lever in LEVERS:
            cell = cell_dose(
                case_obj, lever, getattr(lv, lever), counts[i], per_month[i], spend.get(name, 0)
            )
            row[t(f"lever.{lever}", lang)] = _dose_text(lever, cell, cur, lang)
        rows.append(row)
    return pd.DataFrame(rows)


def _dose_text(lever: str, cell, currency: str, lang: Lang) -> str:
    if cell.state == "none":
        return "—"
    if lever == "kam":
        return t("dose.kam", lang, covered=f"{cell.covered:,.0f}", u=f"{cell.dose:.1f}")
    if lever in RATE_COLUMNS:
        cost = with_currency(money(cell.forecast, lang), currency, lang)
        return t(f"dose.{cell.state}_rate", lang, rate=f"{cell.dose:.1%}", cost=cost)
    dose = with_currency(_per_unit(cell.dose, lang), currency, lang)
    return t(f"dose.{cell.state}", lang, dose=dose)


def _per_unit(value: float, lang: Lang) -> str:
    """Money per customer or per complaint: small amounts keep their decimals (0.50, 6.9)."""
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else money(value, lang)


def plan_grid_config(case_obj: Case, lang: Lang) -> dict:
    """Column rules (money ≥ 0, whole managers, rates 0–90 %) and each lever's help."""
    cfg = {  # the segment stays in view while a narrow screen scrolls the levers sideways
        t("plan_page.segment", lang): st.column_config.TextColumn(pinned=True),
        t("plan_page.customers", lang): st.column_config.NumberColumn(width="small"),
    }
    for lever in LEVERS:
        label = t(f"lever.{lever}", lang)
        if lever in RATE_COLUMNS:
            rule = {"min_value": 0.0, "max_value": 90.0, "step": 0.5, "format": "%.1f"}
        elif lever == "kam":
            rule = {"min_value": 0, "max_value": 1000, "step": 1, "format": "%d"}
        else:
            rule = {"min_value": 0.0, "step": 100.0, "format": "%.0f"}
        cfg[label] = st.column_config.NumberColumn(
            label + (" %" if lever in RATE_COLUMNS else ""),
            help=lever_help(lever, case_obj, lang),
            width="small",
            **rule,
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
            format="%.0f",  # whole money, as in the grid (not 8000.00)
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


def cost_per_customer(plan: Plan, seg: Segmentation, case_obj: Case, n: int, lang: Lang) -> None:
    """Show the money per customer per month in each segment (levers and managers; rates
    excluded, they cost a share of revenue), at the case's reference population size, every
    amount with two decimals (not 10.04 beside 0.6)."""
    counts = np.bincount(seg.labels, minlength=len(seg.names)) * (
        case_obj.population.customers / max(n, 1)
    )
    money_col = t("plan_page.per_customer", lang, currency=currency_name(case_obj.currency, lang))
    rows = []
    for name, count in zip(seg.names, counts, strict=True):
        lv = plan.allocations.get(name, Levers())
        spent = lv.money(case_obj.costs.kam_salary)
        rows.append(
            {
                t("plan_page.segment", lang): segment_label(name, lang),
                money_col: spent / count if count else 0.0,
                t("plan_page.rates", lang): f"{lv.rewards:.0%} / {lv.discount:.0%}",
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={money_col: st.column_config.NumberColumn(format="%,.2f")},
    )


# -- the budget --------------------------------------------------------------------------------
def plan_total(plan: Plan, case_obj: Case, spend: dict[str, float]) -> float:
    """The plan's monthly spending as the budget rule counts it (``crmsim.plans``): money
    levers, salaries, acquisition and the forecast cost of rewards and discounts on the book
    (``spend``: each segment's expected spend, ``crmsim.plans.segment_spend``)."""
    return budget_use(plan, case_obj, spend)["total"]


def budget_status(plan: Plan, case_obj: Case, spend: dict[str, float], lang: Lang) -> bool:
    """The month's spending against the budget: a card, a bar (red when over) and, when over,
    what is wrong in plain words. Returns whether the plan fits."""
    total, budget = plan_total(plan, case_obj, spend), case_obj.budget
    fits = total <= budget * (1 + 1e-9)
    card, bar = st.columns([1, 2])
    if fits:
        delta = t("problem.within_budget", lang, left=money(budget - total, lang))
        colour, arrow = "green", "off"
    else:
        delta = t("problem.over_budget_short", lang, over=money(total - budget, lang))
        colour, arrow = "red", "down"
    card.metric(
        t("plan_page.total", lang),
        with_currency(money(total, lang), case_obj.currency, lang),
        delta,
        delta_color=colour,
        delta_arrow=arrow,
    )
    share = total / budget if budget else 0.0
    fill = "#d62728" if not fits else "#1f77b4"
    bar.markdown(
        f"<div style='margin-top:1.6rem;background:#e8eef5;border-radius:4px;height:0.7rem'>"
        f"<div style='width:{min(share, 1.0) * 100:.1f}%;background:{fill};height:100%;"
        f"border-radius:4px'></div></div>",
        unsafe_allow_html=True,
    )
    bar.caption(t("plan_page.used", lang, share=f"{share:.0%}"))
    if not fits:
        st.error(over_budget_text(total, budget, case_obj.currency, lang))
    return fits


# -- a plan file -------------------------------------------------------------------------------
def plan_upload(
    upload, seg: Segmentation, case_obj: Case, pop: Population, lang: Lang
) -> str | None:
    """Load an uploaded plan file into the grid (and rerun), or return what is wrong with it in
    the page's terms while the file stays in the uploader (the grid keeps its plan). The file
    is checked against its own segmentation, as the command line does (``read_plan_upload``),
    so an RFM plan is taken while the grid shows the pyramid."""
    source = t("plan_page.your_file", lang)
    if upload is None:
        st.session_state.pop("plan_upload_outcome", None)
        return None
    outcome = st.session_state.get("plan_upload_outcome")
    if outcome is None or outcome["file_id"] != upload.file_id:
        try:
            loaded = read_plan_upload(upload.getvalue(), upload.name, case_obj, pop)
        except InputError as exc:
            outcome = {"file_id": upload.file_id, "issues": exc.issues}
            st.session_state["plan_upload_outcome"] = outcome
        else:
            st.session_state["plan_upload_outcome"] = {"file_id": upload.file_id, "issues": []}
            set_plan(loaded)
            st.rerun()
    if not outcome["issues"]:
        return None
    return plan_file_text(InputError(outcome["issues"], source), lang)


def plan_status(
    plan: Plan,
    seg: Segmentation,
    case_obj: Case,
    spend: dict[str, float],
    upload_problem: str | None,
    lang: Lang,
) -> None:
    """Whether the plan in the grid can be used, and only that: a bad file's problems replace
    the "plan usable" message (the plan in the grid is kept as it is)."""
    issues = [i for i in check_plan(plan, seg.names, case_obj, spend) if i.key != "over_budget"]
    fits = plan_total(plan, case_obj, spend) <= case_obj.budget * (1 + 1e-9)
    if fits and not issues:
        keep_plan(plan)
    if upload_problem:
        st.error(upload_problem)
        st.info(t("problem.upload_kept", lang))
    elif issues:
        st.error("\n".join(f"- {plan_problem(i, lang)}" for i in issues))
    elif fits:
        st.success(t("plan_page.valid", lang))
    else:
        st.warning(t("problem.fix_first", lang))
