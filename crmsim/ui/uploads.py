"""Files users hand in on the pages: problems shown in the user's language, and the home
page's case upload panel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crmsim.cases import Case
from crmsim.errors import InputError
from crmsim.i18n import Lang, t
from crmsim.plans import Plan, check_plan, check_plan_for_case, load_plan_bytes, segment_spend
from crmsim.population import Population
from crmsim.reading import CASE, FileLimit
from crmsim.segmentation import segment_for_case, segment_names
from crmsim.ui.case_store import add_case_upload, calibration, case, case_label, template_bytes
from crmsim.ui.state import choose_case


def limit_params(limit: FileLimit) -> dict[str, str]:
    """A file kind's caps for a help text: ``{size}``, ``{rows}``, ``{columns}`` (one table of
    caps, ``crmsim.reading.limits``, for the code, the help texts and the README)."""
    return {
        "size": limit.size_text,
        "rows": f"{limit.max_rows:,}" if limit.max_rows else "",
        "columns": str(limit.max_columns or ""),
    }


def file_upload(where, label: str, types: list[str], key: str, limit: FileLimit, help_text=None):
    """An upload widget for one kind of file (``where``: ``st`` or a column). Streamlit's own
    cap for it sits above ours, so a file too large meets our message in the user's language
    (Streamlit's is English and knows nothing of our caps)."""
    return where.file_uploader(
        label, type=types, key=key, help=help_text, max_upload_size=limit.widget_mb
    )


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


def read_plan_upload(raw: bytes, name: str, case_obj: Case, pop: Population) -> Plan:
    """A plan file uploaded on the Plan page, checked as the command line checks it (its
    segmentation's parameters, segments, channels), then segmented on these customers with
    its own method and held to the budget with its rate levers' forecast on them; raises
    ``InputError`` naming every problem."""
    source = "plan"  # the page names the file in the reader's language
    plan = load_plan_bytes(raw, "json" if name.lower().endswith(".json") else "toml", source)
    issues = check_plan_for_case(plan, case_obj)
    if not issues:
        spec = plan.segmentation
        try:
            own = segment_for_case(pop.customers, spec.method, spec.params, case_obj, pop.seed)
        except InputError as exc:
            issues = exc.issues
        else:
            names = segment_names(spec.method, spec.params) or own.names
            issues = check_plan(plan, names, case_obj, segment_spend(pop, own, case_obj))
    if issues:
        raise InputError(issues, source)
    return plan


def case_upload_panel(current: str, lang: Lang) -> None:
    """Instructors: download the template, upload a case file, read its validation report in
    their language, check the status-quo calibration. A bad file never replaces ``current``."""
    with st.expander(t("home.own_case", lang)):
        st.caption(t("home.own_case_help", lang, **limit_params(CASE)))
        st.download_button(
            t("home.template", lang),
            template_bytes(),
            file_name="crm_case_template.toml",
            mime="application/toml",
            key="case_template_dl",
            on_click="ignore",
        )
        upload = file_upload(st, t("home.upload_case", lang), ["toml"], "case_upload", CASE)
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
