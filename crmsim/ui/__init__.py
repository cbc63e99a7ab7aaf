"""Streamlit glue shared by every page: language, navigation, cached loaders.

The only package in ``crmsim`` that imports Streamlit (DESIGN §2). Every page starts with
``lang = bootstrap("page_key")``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import streamlit as st

from crmsim.cases import (
    CASES_DIR,
    Case,
    builtin_case_ids,
    calibration_report,
    load_case,
    load_case_bytes,
)
from crmsim.engine import SimResult, simulate
from crmsim.errors import InputError
from crmsim.i18n import LANGS, Lang, normalize_lang, t
from crmsim.plans import LEVERS, PRESETS, Levers, Plan, SegmentationSpec, preset_plan
from crmsim.population import Population, generate
from crmsim.segmentation import Segmentation, segment_for_case

# (page key, file) of the pages that exist; labels come from the catalogs (nav.<key>).
PAGES: tuple[tuple[str, str], ...] = (
    ("home", "app.py"),
    ("customers", "pages/customers.py"),
    ("segments", "pages/segments.py"),
    ("plan", "pages/plan.py"),
    ("simulate", "pages/simulate.py"),
    ("compare", "pages/compare.py"),
    ("real_data", "pages/real_data.py"),
    ("learn", "pages/learn.py"),
    ("glossary", "pages/glossary.py"),
    ("classroom", "pages/classroom.py"),
)
UPLOAD_PREFIX = "upload_"  # keys of uploaded cases; no built-in case id starts with it
DEFAULT_SETUP = {"case_id": "telecom", "customers": 10_000, "seed": 42}


def current_lang() -> Lang:
    """Language from ``?lang=``, else the session's choice, else the browser's locale."""
    q = st.query_params.get("lang")
    if q in LANGS:
        return q  # type: ignore[return-value]
    if st.session_state.get("lang") in LANGS:
        return st.session_state["lang"]
    return normalize_lang(getattr(st.context, "locale", None) or "")


def bootstrap(page: str) -> Lang:
    """Page config, language switch (kept in the URL) and the translated sidebar navigation."""
    lang = current_lang()
    st.set_page_config(
        page_title=f"{t('app.name', lang)} · {t(f'nav.{page}', lang)}",
        page_icon="📈",
        layout="wide",
    )
    st.session_state["lang"] = lang
    st.query_params["lang"] = lang
    with st.sidebar:
        st.markdown(f"### {t('app.name', lang)}")
        for key, path in PAGES:
            st.page_link(path, label=t(f"nav.{key}", lang), query_params={"lang": lang})
        st.divider()
        choice = st.radio(
            t("app.language", lang),
            LANGS,
            index=LANGS.index(lang),
            format_func=lambda code: t(f"app.lang_{code}", lang),
            horizontal=True,
            key="lang_radio",
        )
        if choice != lang:
            st.session_state["lang"] = choice
            st.query_params["lang"] = choice
            st.rerun()
    return lang


@st.cache_resource(max_entries=32, show_spinner=False)
def _builtin_case(case_id: str) -> Case:
    return load_case(case_id)


class _CaseUploads:
    """Cases instructors uploaded, by content hash, shared by the sessions of this process
    (bounded; a session keeps its own bytes, so an evicted case is parsed again)."""

    def __init__(self, size: int = 64):
        self._cases: OrderedDict[str, Case] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: str) -> Case | None:
        with self._lock:
            found = self._cases.get(key)
            if found is not None:
                self._cases.move_to_end(key)
            return found

    def put(self, key: str, value: Case) -> None:
        with self._lock:
            self._cases[key] = value
            self._cases.move_to_end(key)
            while len(self._cases) > self._size:
                self._cases.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _case_uploads() -> _CaseUploads:
    return _CaseUploads()


def _session_uploads() -> dict[str, bytes]:
    return st.session_state.setdefault("case_uploads", {})


def case(case_id: str) -> Case:
    """A built-in case or one this session uploaded, loaded once per server process and
    shared by all sessions."""
    if not case_id.startswith(UPLOAD_PREFIX):
        return _builtin_case(case_id)
    found = _case_uploads().get(case_id)
    if found is None:
        raw = _session_uploads()[case_id]
        found = (
            Case.model_validate_json(raw) if raw.startswith(b"{") else load_case_bytes(raw, case_id)
        )
        _case_uploads().put(case_id, found)
    return found


def add_case_upload(raw: bytes, source: str) -> str:
    """Validate an uploaded case file and keep it for this session; returns its case key.
    Raises ``InputError`` (nothing changes) when the file is not a valid case."""
    found = load_case_bytes(raw, source)
    key = UPLOAD_PREFIX + hashlib.sha256(raw).hexdigest()[:12]
    _case_uploads().put(key, found)
    _session_uploads()[key] = raw
    return key


def add_case(made: Case) -> str:
    """Keep a case built in the app (a population like real data) for this session."""
    raw = made.model_dump_json().encode()
    key = UPLOAD_PREFIX + hashlib.sha256(raw).hexdigest()[:12]
    _case_uploads().put(key, made)
    _session_uploads()[key] = raw
    return key


@st.cache_resource(show_spinner=False)
def _builtin_ids() -> tuple[str, ...]:
    return tuple(builtin_case_ids())  # the folder is read once per process, not every rerun


def case_ids() -> list[str]:
    """Built-in case ids, then the cases this session uploaded."""
    return [*_builtin_ids(), *_session_uploads()]


def case_label(case_id: str, lang: Lang) -> str:
    """The case's title in ``lang``, marked when an instructor uploaded it."""
    title = case(case_id).title.get(lang)
    return (
        t("home.uploaded_mark", lang, title=title) if case_id.startswith(UPLOAD_PREFIX) else title
    )


def event_line(ev, lang: Lang) -> str:
    """One line of a case's timeline: "Month 6 (for 6 months): A rival cuts prices"."""
    when = (
        t("home.event_from", lang, month=ev.month)
        if ev.months == 0
        else t("home.event_for", lang, month=ev.month, months=ev.months)
    )
    return f"{when}：{ev.title.zh}" if lang == "zh" else f"{when}: {ev.title.en}"


def template_bytes() -> bytes:
    """The commented case template instructors start from."""
    return (CASES_DIR / "_template.toml").read_bytes()


@st.cache_data(max_entries=32, show_spinner=False)
def calibration(case_id: str, customers: int, seed: int) -> list[dict]:
    """The status-quo calibration report of a case (see ``cases.calibration_report``)."""
    return calibration_report(case(case_id), customers, seed)


@st.cache_resource(max_entries=8, show_spinner=False)
def population(case_id: str, n: int, seed: int, locale: str) -> Population:
    """A generated population shared by every session that asks for the same one (read-only:
    the engine copies what it changes)."""
    return generate(case(case_id), n, seed=seed, locale=locale)


def remember_setup(case_id: str, customers: int, seed: int) -> None:
    """Keep the home page's choices for the other pages (widget state does not survive a
    page change; plain session keys do). A new case starts again from its own status quo."""
    before = st.session_state.get("setup", {}).get("case_id")
    if before is not None and before != case_id:
        for key in ("plan_json", "segmentation"):
            st.session_state.pop(key, None)
        st.session_state["plan_version"] = plan_version() + 1
    st.session_state["setup"] = {"case_id": case_id, "customers": int(customers), "seed": int(seed)}


def picked_case() -> str:
    """The case in the home page's picker (its widget state this run), else the setup's."""
    picked = st.session_state.get("case_id")
    return picked if picked in case_ids() else setup()["case_id"]


def choose_case(case_id: str, customers: int | None = None, seed: int | None = None) -> None:
    """Make ``case_id`` the case of the home page's picker on its next draw."""
    chosen = setup()
    remember_setup(
        case_id, customers or chosen["customers"], chosen["seed"] if seed is None else seed
    )
    for key in ("customers", "seed"):  # the size and seed widgets' state, likewise
        st.session_state.pop(key, None)
    st.session_state.pop("case_id", None)  # the picker's widget state; its index takes over


def setup() -> dict:
    """The case, population size and seed chosen on the home page (defaults otherwise)."""
    chosen = dict(DEFAULT_SETUP)
    chosen.update(st.session_state.get("setup", {}))
    if chosen["case_id"] not in case_ids():  # an upload from a session that has ended
        chosen["case_id"] = DEFAULT_SETUP["case_id"]
    return chosen


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


def story_text(story: dict, lang: Lang) -> str:
    """The run's plain-language summary (numbers computed from the run by ``run_story``)."""
    from crmsim.charts import segment_label

    parts = [
        t(
            "story.retention",
            lang,
            share=f"{story['retention']:.1%}",
            satisfaction=f"{story['satisfaction']:.2f}",
        )
    ]
    if "retention_delta" in story:
        parts.append(
            t(
                "story.vs_status_quo",
                lang,
                retention=f"{story['retention_delta'] * 100:+.1f}",
                profit=f"{story['profit_delta']:+,.0f}",
            )
        )
    parts.append(
        t(
            "story.worst",
            lang,
            segment=segment_label(story["worst_segment"], lang),
            churn=f"{story['worst_churn']:.2%}",
        )
    )
    if story.get("driver"):
        parts.append(t("story.driver", lang, term=t(f"term.{story['driver']}", lang)))
    return " ".join(parts)


def customer_label(name: str, churned: bool, lang: Lang) -> str:
    """A sampled customer in the drill-down list."""
    return f"{name} · {t('sim.left' if churned else 'sim.stayed', lang)}"


def money(value: float, lang: Lang, signed: bool = False) -> str:
    """A compact amount for cards: 175.5万 / 1,750万 / 17.51M (full figures do not fit a card)."""
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    v = abs(value)
    if lang == "zh":
        for unit, size in (("亿", 1e8), ("万", 1e4)):
            if v >= size:
                digits = 0 if v / size >= 1000 else 1  # 1,636万 fits a card, 1,636.0万 does not
                return f"{sign}{v / size:,.{digits}f}{unit}"
    else:
        for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
            if v >= size:
                return f"{sign}{v / size:,.2f}{unit}"
    return f"{sign}{v:,.0f}"


def figure_with_delta(key: str, value, reference, lang: Lang, is_reference: bool) -> str:
    """A KPI for a comparison table, with its change against the first plan in brackets."""
    if value is None:
        return "—"
    money_keys = ("profit", "npv", "score", "revenue", "gross_margin", "service_cost")
    if key in money_keys:
        text, delta = money(value, lang), money(value - (reference or 0), lang, signed=True)
    elif key in ("retention_rate", "recovery_rate", "monthly_churn"):
        text = f"{value:.1%}"
        delta = t("cmp.pp", lang, v=f"{(value - (reference or 0)) * 100:+.1f}")
    else:
        text, delta = f"{value:.3f}", f"{value - (reference or 0):+.3f}"
    return text if is_reference or reference is None else f"{text} ({delta})"


def segmentation_params(method: str, customers, lang: Lang) -> dict:
    """The parameter widgets of one segmentation method; returns the parameters chosen."""
    if method in ("pyramid", "abc", "clv"):
        defaults = {"pyramid": (10, 30, 60), "abc": (80, 15, 5), "clv": (5, 15, 30, 50)}[method]
        cols = st.columns(len(defaults))
        shares = [
            col.number_input(t("seg_page.share", lang, n=i + 1), 1, 98, d, key=f"seg_{method}_{i}")
            for i, (col, d) in enumerate(zip(cols, defaults, strict=True))
        ]
        return {"shares": [s / 100 for s in shares]}
    if method == "kmeans":
        k = st.slider(t("seg_page.k", lang), 2, 10, 4, key="seg_k")
        feats = st.multiselect(
            t("seg_page.features", lang),
            ["recency", "frequency", "monetary", "tenure_months", "complaints_12m"],
            default=["recency", "frequency", "monetary"],
            key="seg_feats",
            format_func=lambda c: t(f"col.{c}", lang),
        )
        return {"k": k, "features": feats}
    if method == "rules":
        example = [
            {"segment": "vip", "conditions": [{"field": "monetary", "op": ">=", "value": 300}]},
            {"segment": "quiet", "conditions": [{"field": "recency", "op": ">", "value": 3}]},
        ]
        text = st.text_area(
            t("seg_page.rules", lang),
            json.dumps(example, ensure_ascii=False, indent=1),
            height=180,
            max_chars=5000,
            key="seg_rules",
        )
        try:
            return {"rules": json.loads(text)}
        except json.JSONDecodeError as exc:
            st.error(t("err.bad_json", lang, detail=f"{exc.msg} ({exc.lineno}:{exc.colno})"))
            st.stop()
    return {}


def translated_profile(profile, lang: Lang):
    """The profile table with headers in the reader's language and shares as percentages."""
    out = profile.copy()
    for col in ("share", "revenue_share"):
        out[col] = (out[col] * 100).round(1)
    out = out.round({"mean_recency": 2, "mean_frequency": 2, "mean_monetary": 1, "mean_survey": 2})
    return out.rename(columns=lambda c: t(f"col.{c}", lang) + (" %" if "share" in c else ""))


# -- the plan being edited -----------------------------------------------------------------
RATE_COLUMNS = ("rewards", "discount")


def current_segmentation(case_obj: Case, pop: Population) -> Segmentation:
    """The segmentation chosen on the Segments page (or by a loaded plan), else the status
    quo's; an invalid stored choice falls back to the status quo's."""
    spec = st.session_state.get("segmentation") or case_obj.status_quo.segmentation.model_dump()
    try:
        return segment_for_case(
            pop.customers, spec["method"], spec.get("params") or {}, case_obj, pop.seed
        )
    except InputError:
        return status_quo_segmentation(case_obj, pop)


def status_quo_segmentation(case_obj: Case, pop: Population) -> Segmentation:
    """The case's own segmentation (the one its status quo, presets and classroom plans use)."""
    sq = case_obj.status_quo.segmentation
    return segment_for_case(pop.customers, sq.method, sq.params, case_obj, pop.seed)


def _same_segmentation(plan: Plan, seg: Segmentation) -> bool:
    return plan.segmentation.method == seg.method and (plan.segmentation.params or {}) == (
        seg.params or {}
    )


def preset_for(name: str, case_obj: Case, seg: Segmentation, n: int) -> Plan:
    """A preset written for the current segmentation where the preset allows it."""
    return preset_plan(name, case_obj, seg, n)


def current_plan(case_obj: Case, seg: Segmentation, n: int) -> Plan:
    """The plan kept in the session if it fits the segmentation, else a starting point:
    the status quo (when it uses this segmentation) or money per customer."""
    raw = st.session_state.get("plan_json")
    if raw:
        plan = Plan.model_validate_json(raw)
        if _same_segmentation(plan, seg):
            return plan
    if _same_segmentation(case_obj.status_quo, seg):
        return case_obj.status_quo.model_copy(update={"name": t("preset.my_plan", "en")})
    return preset_plan("equal", case_obj, seg, n)


def set_plan(plan: Plan) -> None:
    """Replace the plan being edited (a preset or an upload) and redraw the grid."""
    st.session_state["plan_json"] = plan.model_dump_json()
    st.session_state["segmentation"] = plan.segmentation.model_dump()
    st.session_state["plan_version"] = plan_version() + 1


def keep_plan(plan: Plan) -> None:
    """Remember a valid edited plan for the Simulate and Compare pages."""
    st.session_state["plan_json"] = plan.model_dump_json()


def plan_version() -> int:
    """Bumped whenever the grid must start again from a new plan."""
    return int(st.session_state.get("plan_version", 0))


def plan_grid(plan: Plan, seg: Segmentation, lang: Lang) -> pd.DataFrame:
    """Segments × levers as an editable table (rates in %)."""
    from crmsim.charts import segment_label

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


def plan_choices() -> list[str]:
    """Presets, plus the plan made on the Service plan page once there is one."""
    return [*PRESETS, "my_plan"] if st.session_state.get("plan_json") else list(PRESETS)


def chosen_plan(name: str, case_obj: Case, seg: Segmentation, n: int) -> Plan:
    """A preset by name, or the user's own plan (``my_plan``)."""
    if name == "my_plan" and st.session_state.get("plan_json"):
        return Plan.model_validate_json(st.session_state["plan_json"])
    return preset_plan(name, case_obj, seg, n)


def search_customers(customers: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows whose id, name or city contains ``query`` (plain text, case-insensitive)."""
    query = (query or "").strip()
    if not query:
        return customers
    mask = np.zeros(len(customers), bool)
    for col in ("customer_id", "name", "city"):
        if col in customers.columns:
            mask |= customers[col].astype(str).str.contains(query, case=False, regex=False)
    return customers[mask]


def translated_customers(customers: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The customer table as students read it: translated headers and stages."""
    out = customers.copy()
    if "stage" in out.columns:
        out["stage"] = [t(f"stage.{s}", lang) if s else "" for s in out["stage"].astype(str)]
    return out.rename(columns=lambda c: t(f"col.{c}", lang))


def cost_per_customer(
    plan: Plan, seg: Segmentation, case_obj: Case, n: int, lang: Lang
) -> pd.DataFrame:
    """Money per customer per month in each segment (levers and managers; rates excluded,
    they cost a share of revenue), at the case's reference population size."""
    from crmsim.charts import segment_label

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


def roi_breakdown(
    args: tuple, plan: Plan, months: int, case_obj: Case, lang: Lang, progress=None
) -> pd.DataFrame:
    """ROI of each lever and each segment's allocation in ``plan``, from counterfactual runs on
    the same population and seed (shared through the run store)."""
    from crmsim.charts import segment_label
    from crmsim.metrics import incremental_roi
    from crmsim.plans import without

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


def chosen_book(lang: Lang, caption: bool = True) -> tuple[dict, Case, Population]:
    """The case, population size and seed chosen on the home page, the case itself and its
    population; with ``caption``, a line saying which they are."""
    chosen = setup()
    case_obj = case(chosen["case_id"])
    pop = population(chosen["case_id"], chosen["customers"], chosen["seed"], lang)
    if caption:
        st.caption(
            t("sim.setup", lang, case=case_obj.title.get(lang), n=f"{pop.n:,}", seed=chosen["seed"])
        )
    return chosen, case_obj, pop


def case_upload_panel(current: str, lang: Lang) -> None:
    """Instructors: download the template, upload a case file, read its validation report in
    their language, check the status-quo calibration. A bad file never replaces ``current``."""
    with st.expander(t("home.own_case", lang)):
        st.caption(t("home.own_case_help", lang))
        st.download_button(
            t("home.template", lang),
            template_bytes(),
            file_name="crm_case_template.toml",
            mime="application/toml",
            key="case_template_dl",
            on_click="ignore",
        )
        upload = st.file_uploader(t("home.upload_case", lang), type=["toml"], key="case_upload")
        outcome = st.session_state.get("case_upload_outcome")
        if upload is not None and (outcome or {}).get("file_id") != upload.file_id:
            try:
                key = add_case_upload(upload.getvalue(), t("home.your_case_file", lang))
                outcome = {"file_id": upload.file_id, "key": key}
                choose_case(key)
                st.session_state["case_upload_outcome"] = outcome
                st.rerun()
            except InputError as exc:
                outcome = {"file_id": upload.file_id, "issues": exc.issues}
                st.session_state["case_upload_outcome"] = outcome
        if outcome and upload is not None:
            if "issues" in outcome:
                show_input_error(
                    InputError(outcome["issues"], t("home.your_case_file", lang)), lang
                )
                st.info(t("home.case_kept", lang, title=case_label(current, lang)))
            elif outcome["key"] == current:
                loaded = case(current)
                st.success(t("home.case_loaded", lang, id=loaded.id, version=loaded.version))
        if st.toggle(t("home.check_calibration", lang), key="case_calibration"):
            n = min(case(current).population.customers, 10_000)
            with st.spinner(t("home.calibrating", lang)):
                rows = calibration(current, n, 2024)
            st.caption(t("home.calibration_note", lang, n=f"{n:,}", seed=2024))
            st.dataframe(
                pd.DataFrame(
                    {
                        t("home.target", lang): [t(f"target.{r['name']}", lang) for r in rows],
                        t("home.value", lang): [f"{r['value']:.2%}" for r in rows],
                        t("home.band", lang): [f"{r['low']:.2%} – {r['high']:.2%}" for r in rows],
                        t("home.status", lang): [
                            t("cli.target_met" if r["met"] else "cli.target_missed", lang)
                            for r in rows
                        ],
                    }
                ),
                hide_index=True,
            )


# -- real data -------------------------------------------------------------------------------
EXAMPLE_TRANSACTIONS = CASES_DIR.parent / "transactions" / "cdnow_sample.csv"


def transactions_file(lang: Lang) -> tuple[bytes, str] | None:
    """The purchase log to analyse: the CDNOW example or the user's upload (kept in the
    session so a later bad upload does not lose it)."""
    source = st.radio(
        t("real.source", lang),
        ["example", "upload"],
        horizontal=True,
        key="real_source",
        format_func=lambda s: t(f"real.source_{s}", lang),
    )
    if source == "example":
        return EXAMPLE_TRANSACTIONS.read_bytes(), "cdnow_sample.csv"
    upload = st.file_uploader(
        t("real.upload", lang),
        type=["csv", "txt"],
        key="real_upload",
        help=t("real.upload_help", lang),
    )
    if upload is not None:
        st.session_state["real_raw"] = upload.getvalue()
    raw = st.session_state.get("real_raw")
    return (raw, t("real.your_file", lang)) if raw else None


@st.cache_data(max_entries=8, show_spinner=False)
def _csv_header(raw: bytes) -> list[str]:
    """The header row of a purchase log (decoded once per file, not on every rerun)."""
    from crmsim.customers_io import csv_header, decode_upload
    from crmsim.transactions import MAX_BYTES, MAX_COLUMNS

    return csv_header(decode_upload(raw, "", MAX_BYTES)[0], "", MAX_COLUMNS)


def csv_header(raw: bytes, lang: Lang) -> list[str] | None:
    """The header row of an uploaded CSV, or None after showing what is wrong."""
    try:
        return _csv_header(raw)
    except InputError as exc:
        exc.source = t("real.your_file", lang)
        show_input_error(exc, lang)
        return None


def input_error_text(exc: InputError, lang: Lang) -> str:
    """An input problem as page text in the user's language: the file, then one line per
    problem."""
    lines = exc.report(lang).splitlines() or [t("err.empty_file", lang)]
    return (
        t("cli.invalid_file", lang, source=exc.source)
        + "\n\n"
        + "\n".join(f"- {line}" for line in lines)
    )


def show_input_error(exc: InputError, lang: Lang) -> None:
    """An input problem as a page message (never a traceback)."""
    st.error(input_error_text(exc, lang))


@st.cache_data(max_entries=8, show_spinner=False)
def read_transactions_cached(raw: bytes, columns: tuple, drop_duplicates: bool, _source: str = ""):
    """A checked purchase log (cached per file and column choice; the source name only labels
    messages, so it is not part of the key and the fit below reuses this read)."""
    from crmsim.transactions import read_transactions

    return read_transactions(raw, *columns, source=_source, drop_duplicates=drop_duplicates)


@st.cache_data(max_entries=8, show_spinner=False)
def analyse_cached(raw: bytes, columns: tuple, drop_duplicates: bool, cal_end, obs_end, unit: str):
    """BG/NBD + Gamma-Gamma on a purchase log (cached per file and settings)."""
    from crmsim.transactions import analyse

    tx = read_transactions_cached(raw, columns, drop_duplicates)
    return analyse(tx, cal_end, obs_end, unit)


# -- lessons ---------------------------------------------------------------------------------
def lessons_done() -> list[str]:
    """Lessons whose self-check was passed, from the session and the URL (``?done=a,b``), so
    a learner can bookmark the page and come back."""
    from crmsim.lessons import BY_KEY

    raw = st.query_params.get("done", "")
    found = [k for k in raw.split(",") if k in BY_KEY]
    for k in st.session_state.get("lessons_done", []):
        if k not in found:
            found.append(k)
    return found


def mark_lesson_done(key: str) -> None:
    """Record a passed self-check in the session and the URL."""
    done = lessons_done()
    if key not in done:
        done.append(key)
    st.session_state["lessons_done"] = done
    st.query_params["done"] = ",".join(done)


def chosen_lesson(lang: Lang) -> str:
    """The lesson picker, starting from ``?lesson=`` and writing the choice back to the URL."""
    from crmsim.lessons import LESSONS

    keys = [lesson.key for lesson in LESSONS]
    asked = st.query_params.get("lesson")
    if (
        asked in keys
        and st.session_state.get("learn_pick") != asked
        and (st.session_state.get("learn_url_seen") != asked)
    ):
        st.session_state["learn_pick"] = asked
    done = set(lessons_done())
    key = st.selectbox(
        t("learn.pick", lang),
        keys,
        key="learn_pick",
        format_func=lambda k: ("✓ " if k in done else "") + t(f"learn.{k}.title", lang),
    )
    st.session_state["learn_url_seen"] = key
    st.query_params["lesson"] = key
    if done:
        st.query_params["done"] = ",".join(lessons_done())
    return key


@st.cache_data(max_entries=64, show_spinner=False)
def lesson_facts(key: str, seed: int) -> dict:
    """The facts of one lesson's experiment (shared by every learner with the same seed)."""
    from crmsim.lessons import run

    return run(key, seed)
