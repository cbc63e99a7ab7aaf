"""The cases a session can play: built-in cases loaded once per server process, cases an
instructor uploaded (or the Real data page built) kept per session, their labels and lines."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import streamlit as st

from crmsim.cases import (
    CASES_DIR,
    Case,
    builtin_case_ids,
    calibration_report,
    load_case,
    load_case_bytes,
)
from crmsim.i18n import Lang, t

UPLOAD_PREFIX = "upload_"  # keys of uploaded cases; no built-in case id starts with it
# The teaching cases written from the course's own material, in the order the course meets
# them; every other built-in case is an industry preset.
COURSEWARE_CASES = (
    "rice_shop",
    "y_company",
    "beijing_post",
    "mobile_operator",
    "retail_bank",
    "online_retailer",
)


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
    """The cases to pick from, grouped: courseware cases in the course's order, industry
    presets, then the cases this session uploaded."""
    builtin = _builtin_ids()
    courseware = [cid for cid in COURSEWARE_CASES if cid in builtin]
    presets = [cid for cid in builtin if cid not in COURSEWARE_CASES]
    return [*courseware, *presets, *_session_uploads()]


def case_group(case_id: str) -> str:
    """``courseware``, ``preset`` or ``uploaded``."""
    if case_id.startswith(UPLOAD_PREFIX):
        return "uploaded"
    return "courseware" if case_id in COURSEWARE_CASES else "preset"


def case_label(case_id: str, lang: Lang) -> str:
    """The case's title in ``lang`` after its group (课程案例 · …, 行业预设 · …, 上传 · …)."""
    return t(f"case_list.{case_group(case_id)}", lang, title=case(case_id).title.get(lang))


def own_size(case_id: str) -> int:
    """The population size a case is written for, within what the app offers."""
    return int(min(max(case(case_id).population.customers, 100), 100_000))


def adopt_case(case_id: str) -> bool:
    """Make a case named in a link this session's again: built-in cases always, an upload if
    this server still holds it (another session uploaded it, or this browser before a reload)."""
    if not case_id.startswith(UPLOAD_PREFIX):
        return case_id in _builtin_ids()
    if case_id in _session_uploads():
        return True
    found = _case_uploads().get(case_id)
    if found is None:
        return False
    _session_uploads()[case_id] = found.model_dump_json().encode()
    return True


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
