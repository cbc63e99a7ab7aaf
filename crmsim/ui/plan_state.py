"""The plan being edited, kept in the session for the Simulate, Compare and Classroom pages."""

from __future__ import annotations

import streamlit as st

from crmsim.cases import Case
from crmsim.i18n import t
from crmsim.plans import PRESETS, Plan, preset_plan
from crmsim.segmentation import Segmentation


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


def plan_choices() -> list[str]:
    """Presets, plus the plan made on the Service plan page once there is one."""
    return [*PRESETS, "my_plan"] if st.session_state.get("plan_json") else list(PRESETS)


def chosen_plan(name: str, case_obj: Case, seg: Segmentation, n: int) -> Plan:
    """A preset by name, or the user's own plan (``my_plan``)."""
    if name == "my_plan" and st.session_state.get("plan_json"):
        return Plan.model_validate_json(st.session_state["plan_json"])
    return preset_plan(name, case_obj, seg, n)
