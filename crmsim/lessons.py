"""Guided lessons: each one runs a small experiment on a case and reports what happened
(the experiments: ``crmsim.lesson_experiments``).

A lesson's text (the idea, the self-check) lives in the i18n catalogs under ``learn.<key>``;
its numbers never do: ``run(key, seed)`` simulates, ``facts`` are computed from the runs, and
``notice`` turns them into "what to notice" sentences. ``claim`` is the statement the lesson
makes, as a boolean over the facts; the tests check it holds for several seeds, so a change to
the model that breaks a lesson's story fails loudly instead of teaching something false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from crmsim import lesson_experiments as ex
from crmsim.cases import Case, load_case
from crmsim.i18n import Lang, t
from crmsim.population import Population, generate


@dataclass(frozen=True)
class Question:
    """A multiple-choice self-check question; its texts are ``learn.<lesson>.q<n>*``."""

    options: int
    answer: int  # 0-based index of the right option


@dataclass(frozen=True)
class Knob:
    """The one thing besides the seed a learner can change in an experiment: its label is
    ``learn.knob.<name>``; ``default`` gives the experiment the lesson's claims are about."""

    name: str
    low: float
    high: float
    step: float
    default: float


@dataclass(frozen=True)
class Lesson:
    key: str
    case_id: str
    customers: int
    months: int
    terms: tuple[str, ...]  # glossary keys this lesson explains
    questions: tuple[Question, ...]
    experiment: Callable[[Case, Population, int, float], dict]
    claim: Callable[[dict], bool]
    knob: Knob
    notice: tuple[str, ...] = ("n1", "n2", "n3")  # catalog keys of "what to notice" lines


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "lifecycle",
        "telecom",
        4000,
        24,
        ("lifecycle", "exploration", "formation", "stability", "decline", "churn"),
        (Question(3, 1), Question(3, 2), Question(3, 0)),
        ex.lifecycle,
        lambda f: (
            f["churn_exploration"] > f["churn_stability"]
            and f["churn_decline"] > f["churn_stability"]
        ),
        knob=Knob("months", 12, 48, 6, 24),
    ),
    Lesson(
        "delivered_value",
        "telecom",
        4000,
        24,
        ("delivered_value", "satisfaction", "discount", "care"),
        (Question(3, 0), Question(3, 2), Question(3, 1)),
        ex.delivered_value,
        lambda f: (
            f["sat_service"] > f["sat_none"] + 0.01
            and f["price_gain_early"] > f["price_gain_end"] + 0.005
            and f["price_gain_early"] > 0
            and f["profit_price"] < f["profit_service"]
        ),
        knob=Knob("discount", 5, 30, 5, 10),
    ),
    Lesson(
        "segmentation",
        "retail",
        6000,
        12,
        ("segmentation", "rfm", "abc", "pyramid"),
        (Question(3, 1), Question(3, 0), Question(3, 2)),
        ex.segmentation,
        lambda f: (
            f["key_revenue"] > 3 * f["key_customers"]
            and f["a_customers"] < 0.35
            and f["champions_recency"] < f["lost_recency"]
        ),
        knob=Knob("top", 5, 30, 5, 10),
    ),
    Lesson(
        "key_accounts",
        "b2b_it",
        2000,
        36,
        ("key_account", "kam", "rule_80_20"),
        (Question(3, 2), Question(3, 0), Question(3, 1)),
        ex.key_accounts,
        lambda f: f["key_retention_with"] > f["key_retention_without"] and f["top20"] > 0.6,
        knob=Knob("managers", 1, 20, 1, 8),
    ),
    Lesson(
        "zones",
        "telecom",
        6000,
        36,
        ("satisfaction", "loyalty", "zones"),
        (Question(3, 1), Question(3, 2), Question(3, 0)),
        ex.zones,
        lambda f: (
            f["satisfied_churners"] > 0.5
            and f["indifference_vs_affection"] > 2
            and f["churn_defection"] > f["churn_indifference"]
        ),
        knob=Knob("months", 12, 48, 6, 36),
    ),
    Lesson(
        "recovery",
        "mobile_operator",
        8000,
        36,
        ("complaint_handling", "service_recovery"),
        (Question(3, 0), Question(3, 1), Question(3, 2)),
        ex.recovery,
        lambda f: (
            f["stay_silent"] < f["stay_unresolved"] < f["stay_resolved"]
            and f["resolved_rate_generous"] > f["resolved_rate_stingy"]
        ),
        knob=Knob("after", 3, 12, 1, 6),
    ),
    Lesson(
        "diminishing",
        "telecom",
        4000,
        24,
        ("care", "over_serving"),
        (Question(3, 2), Question(3, 1), Question(3, 0)),
        ex.diminishing,
        lambda f: (
            f["roi_small_12x"] < f["roi_small_4x"] < f["roi_small_1x"]
            and f["roi_key_1x"] > f["roi_small_1x"]
        ),
        knob=Knob("most", 8, 20, 2, 12),
    ),
    Lesson(
        "clv",
        "telecom",
        4000,
        36,
        ("clv", "retention", "key_account"),
        (Question(3, 1), Question(3, 0), Question(3, 2)),
        ex.clv,
        lambda f: f["key_vs_small"] > 3 and f["clv_gain"] > 0.05,
        knob=Knob("better", 0.1, 2.0, 0.1, 0.5),
    ),
    Lesson(
        "prospecting",
        "telecom",
        10000,
        24,
        ("acquisition", "man", "referral", "telephone"),
        (Question(3, 0), Question(3, 2), Question(3, 1)),
        ex.prospecting,
        lambda f: (
            f["referral_kept_share"] > f["telephone_kept_share"]
            and f["referral_cost_per_kept"] < f["telephone_cost_per_kept"]
        ),
        knob=Knob("money", 1000, 20000, 1000, 6000),
    ),
)
BY_KEY = {lesson.key: lesson for lesson in LESSONS}

# Glossary (DESIGN §8): term key → the lesson that explains it (None: no lesson yet).
GLOSSARY: tuple[tuple[str, str | None], ...] = (
    ("crm", None),
    ("segmentation", "segmentation"),
    ("customer_value", "segmentation"),
    ("clv", "clv"),
    ("delivered_value", "delivered_value"),
    ("satisfaction", "zones"),
    ("loyalty", "zones"),
    ("zones", "zones"),
    ("churn", "lifecycle"),
    ("retention", "clv"),
    ("lifecycle", "lifecycle"),
    ("exploration", "lifecycle"),
    ("formation", "lifecycle"),
    ("stability", "lifecycle"),
    ("decline", "lifecycle"),
    ("key_account", "key_accounts"),
    ("ordinary", "segmentation"),
    ("prospect", "prospecting"),
    ("pyramid", "segmentation"),
    ("rule_80_20", "key_accounts"),
    ("rfm", "segmentation"),
    ("abc", "segmentation"),
    ("care", "delivered_value"),
    ("complaint_handling", "recovery"),
    ("service_recovery", "recovery"),
    ("rewards", None),
    ("kam", "key_accounts"),
    ("personalised", None),
    ("cross_selling", None),
    ("discount", "delivered_value"),
    ("over_serving", "diminishing"),
    ("acquisition", "prospecting"),
    ("man", "prospecting"),
    ("referral", "prospecting"),
    ("telephone", "prospecting"),
    ("direct_mail", "prospecting"),
    ("events", "prospecting"),
    ("customer_records", "segmentation"),
    ("case", None),
    ("classroom", None),
    ("round", None),
    ("leaderboard", None),
    ("debrief", None),
)


def run(key: str, seed: int = 7, value: float | None = None) -> dict:
    """Run lesson ``key``'s experiment (its knob at ``value``, default the lesson's own) and
    return its facts: numbers computed from the runs, and ``chart``, the data of its chart."""
    lesson = BY_KEY[key]
    case = load_case(lesson.case_id)
    pop = generate(case, lesson.customers, seed=seed)
    knob = (
        lesson.knob.default if value is None else min(max(value, lesson.knob.low), lesson.knob.high)
    )
    facts = lesson.experiment(case, pop, seed, knob)
    facts["knob"] = knob
    facts["claim_holds"] = bool(lesson.claim(facts))
    return facts


def _fmt(value: float | int) -> str:
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return f"{value:.2f}"


def notice(key: str, facts: dict, lang: Lang) -> list[str]:
    """The "what to notice" sentences of a lesson, with this run's numbers in them. Shares
    are passed as percentages (``pct_<fact>``), money and counts as formatted numbers."""
    lesson = BY_KEY[key]
    months = facts.get("knob", lesson.months) if lesson.knob.name == "months" else lesson.months
    params: dict[str, str] = {"months": str(int(months))}
    for name, value in facts.items():
        if isinstance(value, bool | dict):
            continue
        params[name] = _fmt(value)
        params[f"pct_{name}"] = f"{value:.1%}"
    params["knob"] = knob_text(facts.get("knob", lesson.knob.default))
    return [t(f"learn.{key}.{n}", lang, **params) for n in lesson.notice]


def knob_text(value: float) -> str:
    """A knob's value as the lesson's texts write it: 8, 2,000, 0.5."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def experiment_text(key: str, facts: dict, lang: Lang) -> str:
    """The experiment's description with this run's knob in it."""
    return t(
        f"learn.{key}.experiment",
        lang,
        care_money=f"{facts.get('care_money', 0):,.0f}",
        knob=knob_text(facts.get("knob", BY_KEY[key].knob.default)),
    )


def months_of(key: str, facts: dict) -> int:
    """How many months the lesson's experiment ran (its knob, when that is the months)."""
    lesson = BY_KEY[key]
    return int(facts.get("knob", lesson.months)) if lesson.knob.name == "months" else lesson.months


def score_answers(key: str, answers: list[int | None]) -> list[bool]:
    """Which self-check answers are right (None: not answered)."""
    return [a == q.answer for a, q in zip(answers, BY_KEY[key].questions, strict=True)]
