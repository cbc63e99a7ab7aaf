"""Playing a room's rounds: each team's schedule of plans, its run, its KPIs, its score.

Every team plays the same population and seed; round r replays the team's plans of rounds
1…r on one run (``engine.simulate_rounds``), so each round continues from where the team's
customers were, and a round without a new plan keeps the last one (the status quo before the
first). A practice round (round 0) is played on its own and never counts. Runs are cached per
process by their schedule, so teams with the same plans, and the status quo, run once.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from crmsim.cases import Case
from crmsim.plans import Plan

SCORE_KPIS = ("npv", "customer_equity_end", "retention_rate", "avg_satisfaction_end")
DEFAULT_WEIGHTS = {
    "npv": 0.4,
    "customer_equity_end": 0.3,
    "retention_rate": 0.2,
    "avg_satisfaction_end": 0.1,
}
RESULT_KPIS = (*SCORE_KPIS, "profit", "revenue", "service_cost")


def schedule(
    status_quo: Plan, by_round: dict[int, tuple[Plan, int]], upto: int
) -> tuple[list[Plan], list[list[int]]]:
    """The plan played in each round 1…``upto`` (or the practice round alone when ``upto``
    is 0), and where each came from: ``[round, version]`` of the submission played, ``[0, 0]``
    for the status quo. A round without a submission carries the last plan."""
    rounds = [0] if upto == 0 else range(1, upto + 1)
    played, origin = [], []
    last, last_from = status_quo, [0, 0]
    for r in rounds:
        if r in by_round:
            last, version = by_round[r]
            last_from = [r, version]
        played.append(last)
        origin.append(list(last_from))
    return played, origin


@lru_cache(maxsize=32)
def room_case(case_json: str) -> Case:
    """A room's case, parsed once per process (every page run asks for the room)."""
    return Case.model_validate_json(case_json)


@lru_cache(maxsize=4)
def _population(case_json: str, customers: int, seed: int):
    from crmsim.population import generate

    return generate(room_case(case_json), customers, seed=seed)


@lru_cache(maxsize=4)
def room_segments(case_json: str, customers: int, seed: int):
    """The room's customers in the case's own segments (every plan of the room uses them)."""
    from crmsim.segmentation import segment_for_case

    case = room_case(case_json)
    sq = case.status_quo.segmentation
    pop = _population(case_json, customers, seed)
    return segment_for_case(pop.customers, sq.method, sq.params, case, seed)


@lru_cache(maxsize=16)
def book_forecast(case_json: str, customers: int, seed: int) -> tuple[list[str], dict]:
    """The room's segments and each one's forecast spend on its book (what the budget prices
    rewards and discounts on, ``crmsim.plans.segment_spend``)."""
    from crmsim.plans import segment_spend

    case = room_case(case_json)
    pop = _population(case_json, customers, seed)
    seg = room_segments(case_json, customers, seed)
    return list(seg.names), segment_spend(pop, seg, case)


RunKey = tuple[str, int, int, int, tuple[str, ...]]  # case, customers, seed, months, plans


class RunCache:
    """The runs played in this process, by schedule (``RunKey``), the newest ``size`` kept:
    teams with the same plans, and the status quo, run once; a run played in the warming
    worker process is kept here too (``put``)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.played = 0  # runs this process played itself (tests read it)
        self._runs: OrderedDict[RunKey, tuple[dict, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: RunKey) -> tuple[dict, dict] | None:
        with self._lock:
            found = self._runs.get(key)
            if found is not None:
                self._runs.move_to_end(key)
            return found

    def put(self, key: RunKey, run: tuple[dict, dict]) -> tuple[dict, dict]:
        with self._lock:
            self._runs[key] = run
            self._runs.move_to_end(key)
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)
        return run


RUNS = RunCache()


def run_key(room, plans: list[Plan]) -> RunKey:
    """What a room's run of ``plans`` (one per round) is cached and played by."""
    plans_json = tuple(p.model_dump_json() for p in plans)
    return (room.case_json, room.customers, room.seed, room.round_months, plans_json)


def team_run(
    case_json: str, customers: int, seed: int, round_months: int, plans_json: tuple[str, ...]
) -> tuple[dict, dict]:
    """KPIs and monthly series of one schedule of plans (JSON, one per round), cached."""
    key = (case_json, customers, seed, round_months, tuple(plans_json))
    found = RUNS.get(key)
    if found is None:
        found = RUNS.put(key, play_schedule(*key))
        RUNS.played += 1
    return found


def play_schedule(
    case_json: str, customers: int, seed: int, round_months: int, plans_json: tuple[str, ...]
) -> tuple[dict, dict]:
    """One schedule played, not cached: what ``team_run`` runs, in this process or in the
    warming worker's (``crmsim.classroom.worker``)."""
    from crmsim.metrics import kpis
    from crmsim.model.run import simulate_rounds

    case = room_case(case_json)
    pop = _population(case_json, customers, seed)
    played = [Plan.model_validate_json(p) for p in plans_json]
    res = simulate_rounds(pop, case, played, round_months, seed, sample_size=0)
    k = kpis(res, case)
    return {key: float(k[key]) for key in RESULT_KPIS}, series(res, round_months)


def series(res, round_months: int) -> dict:
    """What a team's charts need, month by month: customers active, the share of the starting
    book still there, revenue, profit, satisfaction, and active customers per segment."""
    m = res.monthly
    start = float(res.cohorts[0, 0]) or 1.0

    def nums(values) -> list[float]:
        return [float(f"{v:.6g}") for v in np.asarray(values, float)]

    return {
        "round_months": round_months,
        "month": [int(v) for v in m["month"]],
        "active": nums(m["active_end"]),
        "retained": nums(res.cohorts[0, 1 : res.months + 1] / start),
        "revenue": nums(m["revenue"]),
        "profit": nums(m["profit"]),
        "satisfaction": nums(m["avg_satisfaction"]),
        "segments": {s: nums(v) for s, v in _active_by_segment(res, m["month"]).items()},
    }


def _active_by_segment(res, months) -> dict[str, np.ndarray]:
    """Active customers at each month's end, per segment (numpy: a reveal runs this once per
    team, and a pandas pivot took a fifth of the reveal's time)."""
    frame = res.by_segment
    months = np.asarray(months)
    at = np.searchsorted(months, frame["month"].to_numpy())
    seg = frame["segment"].to_numpy()
    active = frame["active_end"].to_numpy(float)
    out = {}
    for s in res.segments:
        rows = seg == s
        if rows.any():
            out[str(s)] = np.bincount(at[rows], weights=active[rows], minlength=len(months))
    return out


def status_quo_run(room, upto: int) -> tuple[dict, dict]:
    """The status quo played for the same rounds: what every score is measured against."""
    return team_run(*status_quo_key(room, upto))


def status_quo_key(room, upto: int) -> RunKey:
    """The status quo's schedule for rounds 1…``upto`` (the practice round alone: 0)."""
    return run_key(room, [room.case.status_quo] * (1 if upto == 0 else upto))


def score(k: dict, base: dict, weights: dict[str, float]) -> float:
    """Balanced scorecard: each KPI against the status quo on the same months (100 = as good
    as the status quo), weighted as the instructor set and showed the class."""
    total = sum(weights.values())
    points = 0.0
    for key, w in weights.items():
        ref = base.get(key) or 0.0
        ratio = k[key] / ref if ref > 0 else (1.0 if k[key] >= ref else 0.0)
        points += w * ratio
    return 100.0 * points / total


def runs_needed(room, by_round: dict[int, tuple[Plan, int]], upto: int) -> list[RunKey]:
    """The runs ``play`` needs for this schedule: the team's and the status quo's."""
    plans, _ = schedule(room.case.status_quo, by_round, upto)
    return [run_key(room, plans), status_quo_key(room, upto)]


def play(room, by_round: dict[int, tuple[Plan, int]], upto: int) -> dict:
    """One team's result of round ``upto``: KPIs, score, series and the plans it played."""
    plans, origin = schedule(room.case.status_quo, by_round, upto)
    k, s = team_run(*run_key(room, plans))
    base, _ = status_quo_run(room, upto)
    return {"kpis": k, "score": score(k, base, room.weights), "series": s, "played": origin}


def answer_key(room, upto: int) -> dict | None:
    """The answer key's result for round ``upto``: the case's stored best plan
    (``python -m crmsim optimize --answer-key``) played in every round and scored like a team.
    None when the case has no answer key (an instructor's own case)."""
    from crmsim import optimize

    if upto == 0:
        return None
    months = room.round_months * room.rounds
    plan = _best_plan(
        optimize.best_plan,
        str(optimize.ANSWER_KEYS),
        room.case_json,
        room.customers,
        room.seed,
        months,
    )
    if plan is None:
        return None
    return play(room, {r: (plan, 0) for r in range(1, upto + 1)}, upto)


@lru_cache(maxsize=8)
def _best_plan(
    best_plan, keys: str, case_json: str, customers: int, seed: int, months: int
) -> Plan | None:
    """The answer key, read once per case, folder of keys and room (``keys`` is in the cache
    key so that a new folder of keys is read again)."""
    return best_plan(room_case(case_json), customers, seed, months)


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))
