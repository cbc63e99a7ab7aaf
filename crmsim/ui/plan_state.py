"""The plan being edited, kept in the session for the Simulate, Compare and Classroom pages,
and in the address as a short token (``?plan=``) so a reload or a shared link brings it back.

The token holds the segmentation chosen on the Segments page and, once the user has made one,
the plan itself (levers per segment, acquisition), zlib-packed: ~200 characters for a case's
status quo (see ``url_state``).
"""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from crmsim.cases import Case
from crmsim.i18n import t
from crmsim.plans import PRESETS, Plan, SegmentationSpec, preset_plan
from crmsim.segmentation import Segmentation, full_params
from crmsim.ui import url_state

PLAN_PARAM = "plan"


def same_segmentation(a: dict | SegmentationSpec, b: dict | SegmentationSpec) -> bool:
    """Whether two segmentation choices are the same (defaults filled in on both sides)."""

    def norm(spec) -> tuple:
        spec = spec.model_dump() if isinstance(spec, SegmentationSpec) else spec
        return spec["method"], full_params(spec["method"], spec.get("params"))

    return norm(a) == norm(b)


def _fits(plan: Plan, seg: Segmentation) -> bool:
    return same_segmentation(plan.segmentation, {"method": seg.method, "params": seg.params})


def preset_for(name: str, case_obj: Case, seg: Segmentation, n: int) -> Plan:
    """A preset written for the current segmentation where the preset allows it."""
    return preset_plan(name, case_obj, seg, n)


def current_plan(case_obj: Case, seg: Segmentation, n: int) -> Plan:
    """The plan kept in the session if it fits the segmentation, else a starting point:
    the status quo (when it uses this segmentation) or money per customer."""
    raw = st.session_state.get("plan_json")
    if raw:
        plan = Plan.model_validate_json(raw)
        if _fits(plan, seg):
            return plan
    if _fits(case_obj.status_quo, seg):
        return case_obj.status_quo.model_copy(update={"name": t("preset.my_plan", "en")})
    return preset_plan("equal", case_obj, seg, n)


def remember_segmentation(spec: dict) -> None:
    """Keep the segmentation chosen on the Segments page (``{"method", "params"}``)."""
    if st.session_state.get("segmentation") != spec:
        st.session_state["segmentation"] = spec
        _save()


def set_plan(plan: Plan) -> None:
    """Replace the plan being edited (a preset or an upload) and redraw the grid."""
    st.session_state["plan_json"] = plan.model_dump_json()
    st.session_state["segmentation"] = plan.segmentation.model_dump()
    st.session_state["plan_version"] = plan_version() + 1
    _save()


def keep_plan(plan: Plan) -> None:
    """Remember a valid edited plan for the Simulate and Compare pages."""
    raw = plan.model_dump_json()
    if st.session_state.get("plan_json") != raw:
        st.session_state["plan_json"] = raw
        _save()


def forget_plan() -> None:
    """Drop the plan and segmentation (a new case starts from its own status quo)."""
    for key in ("plan_json", "segmentation"):
        st.session_state.pop(key, None)
    st.session_state["plan_version"] = plan_version() + 1
    _save()


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


# -- the token -------------------------------------------------------------------------------
def plan_token(segmentation: dict | None, plan_json: str | None) -> str | None:
    """The token for a segmentation and a plan (``None`` when there is neither)."""
    if not segmentation and not plan_json:
        return None
    found: dict = {}
    if segmentation:
        found["s"] = segmentation
    if plan_json:
        found["p"] = Plan.model_validate_json(plan_json).model_dump(exclude_defaults=True)
    return url_state.encode_token(found)


def read_plan_token(token: str) -> tuple[dict | None, Plan | None]:
    """The segmentation and plan in a token; raises ``ValueError`` when it holds neither."""
    found = url_state.decode_token(token)
    if not isinstance(found, dict) or not ({"s", "p"} & set(found)):
        raise ValueError("not a plan token")
    try:
        spec = SegmentationSpec.model_validate(found["s"]).model_dump() if "s" in found else None
        plan = Plan.model_validate(found["p"]) if "p" in found else None
    except ValidationError as exc:
        raise ValueError("not a plan token") from exc
    return spec or (plan.segmentation.model_dump() if plan else None), plan


def _save() -> None:
    token = plan_token(st.session_state.get("segmentation"), st.session_state.get("plan_json"))
    url_state.put(PLAN_PARAM, token)


def _restore(token: str) -> None:
    try:
        spec, plan = read_plan_token(token)
    except ValueError:
        url_state.put(PLAN_PARAM, None)
        url_state.report_problem("bad_plan")
        return
    st.session_state["segmentation"] = spec
    if plan is not None:
        st.session_state["plan_json"] = plan.model_dump_json()
    st.session_state["plan_version"] = plan_version() + 1


url_state.register(PLAN_PARAM, _restore, order=20)
