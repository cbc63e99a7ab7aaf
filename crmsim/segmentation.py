"""Customer segmentation from observables: RFM, ABC/Pareto, pyramid, CLV tiers, k-means, rules.

Every method returns a ``Segmentation``: integer labels, ordered segment keys (highest value
first, translated in the UI through ``t("seg.<key>")``), and a profile table. Methods see only
what a firm could see (recency, frequency, monetary, tenure, complaints, survey answers), never
the hidden traits.
"""

from __future__ import annotations

import contextlib
import operator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from crmsim.errors import InputError, Issue

RFM_SEGMENTS = (
    "champions",
    "loyal",
    "potential",
    "new",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)
CLV_TIERS = ("platinum", "gold", "iron", "lead")
PYRAMID = ("key", "ordinary", "small")
ABC = ("A", "B", "C")
RULE_FIELDS = (
    "recency",
    "frequency",
    "monetary",
    "revenue_12m",
    "tenure_months",
    "complaints_12m",
    "survey_score",
    "city",
    "region",
    "channel",
    "industry",
    "age_band",
    "stage",
)
RULE_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
MAX_RULES = 20
DEFAULT_SHARES = {
    "abc": (0.8, 0.15, 0.05),
    "pyramid": (0.1, 0.3, 0.6),
    "clv": (0.05, 0.15, 0.30, 0.50),
}
DEFAULT_FEATURES = ("recency", "frequency", "monetary")


@dataclass
class Segmentation:
    """Segment labels (index into ``names``), the names in value order, and a profile."""

    method: str
    labels: np.ndarray
    names: list[str]
    frame: pd.DataFrame = field(repr=False)
    new_segment: str | None = None
    params: dict | None = None

    @cached_property
    def profile(self) -> pd.DataFrame:
        """Count, share, revenue share, mean R/F/M and surveyed satisfaction per segment
        (computed when first asked for: the engine needs only the labels)."""
        return profile(self.frame, self.labels, self.names)


def _bad(field: str, key: str, **params: Any) -> InputError:
    return InputError([Issue(f"segmentation.params.{field}", key, params)], "segmentation")


def _shares(params: dict, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = params.get(name, default)
    try:
        vals = tuple(float(x) for x in raw)
    except (TypeError, ValueError):
        raise _bad(name, "not_number_list") from None
    if len(vals) != len(default) or any(not np.isfinite(v) or v <= 0 for v in vals):
        raise _bad(name, "shares_invalid", count=len(default))
    if abs(sum(vals) - 1.0) > 1e-6:
        raise _bad(name, "shares_sum", total=f"{sum(vals):.3f}")
    return vals


def _by_rank(value: np.ndarray, shares: tuple[float, ...]) -> np.ndarray:
    """Label by descending value rank: the first ``shares[0]`` of customers get label 0, ..."""
    n = len(value)
    order = np.argsort(-value, kind="stable")
    cuts = np.round(np.cumsum(shares)[:-1] * n).astype(int)
    labels = np.empty(n, np.int16)
    labels[order] = np.searchsorted(cuts, np.arange(n), side="right")
    return labels


def tiers_by_value(
    frame: pd.DataFrame, value: np.ndarray, shares: tuple[float, ...] = (0.05, 0.15, 0.30, 0.50)
) -> Segmentation:
    """CLV tiers (platinum/gold/iron/lead) from a value the caller computed, e.g. a fitted
    BG/NBD + Gamma-Gamma CLV of real customers."""
    labels = _by_rank(np.asarray(value, float), shares)
    return Segmentation("clv", labels, list(CLV_TIERS), frame, CLV_TIERS[-1], {})


def _quintiles(*keys: np.ndarray) -> np.ndarray:
    """Scores 5 (best fifth) to 1 by the first key, ties broken by the next keys, then by row
    (smaller is better in every key), so each fifth of the customers gets one score."""
    n = len(keys[0])
    order = np.lexsort(tuple(reversed(keys)))  # lexsort sorts by its last key first
    position = np.empty(n, np.int64)
    position[order] = np.arange(n)
    return (5 - position * 5 // max(n, 1)).astype(np.int8)


def rfm_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Quintile scores 1–5 (5 best) for recency (lower is better), frequency and monetary.

    Each score goes to a fifth of the customers, even when many tie: customers with the same
    recency are ordered by frequency and then spend (and likewise for F and M), so when most
    of a book bought this month the R = 5 and R = 4 groups are its most frequent buyers and no
    score is left empty (on the telecom book 57% tie at recency 0)."""
    r = frame["recency"].to_numpy(float)
    f = frame["frequency"].to_numpy(float)
    m = frame["monetary"].to_numpy(float)
    return pd.DataFrame(
        {"R": _quintiles(r, -f, -m), "F": _quintiles(-f, r, -m), "M": _quintiles(-m, -f, r)},
        index=frame.index,
    )


def rfm(frame: pd.DataFrame) -> np.ndarray:
    """Named RFM segments from R and F scores (the common segment map)."""
    s = rfm_scores(frame)
    r, f = s["R"].to_numpy(), s["F"].to_numpy()
    conds = [
        (r >= 4) & (f >= 4),  # champions
        (r >= 3) & (f >= 3),  # loyal
        (r >= 3) & (f >= 2),  # potential
        (r >= 3),  # new (recent, one-off so far)
        (r <= 2) & (f == 3),  # at risk
        (r <= 2) & (f >= 4),  # can't lose
        (r == 2),  # hibernating
    ]
    return np.select(conds, np.arange(len(conds)), default=len(conds)).astype(np.int16)


def clv_estimate(
    frame: pd.DataFrame,
    margin_rate: float = 0.3,
    base_churn: float = 0.02,
    monthly_discount: float = 0.008,
    horizon: int = 36,
) -> np.ndarray:
    """A firm-side CLV guess: monthly margin × capped retention annuity, frailer if lapsing."""
    margin = frame["monetary"].to_numpy(float) * margin_rate
    churn = np.clip(base_churn * (1 + frame["recency"].to_numpy(float) / 3), 1e-4, 0.9)
    r = (1 - churn) / (1 + monthly_discount)
    return margin * r * (1 - r**horizon) / (1 - r)


def kmeans(frame: pd.DataFrame, k: int, features: tuple[str, ...], seed: int) -> np.ndarray:
    """k-means on standardised features, clusters renumbered by mean monetary (high first)."""
    from sklearn.cluster import KMeans

    x = np.column_stack([frame[c].to_numpy(float) for c in features])
    x = np.where(np.isfinite(x), x, np.nanmedian(x, axis=0))
    if "monetary" in features:
        j = features.index("monetary")
        x[:, j] = np.log1p(np.maximum(x[:, j], 0))
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1)
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
    money = frame["monetary"].to_numpy(float)
    means = np.array(
        [money[km.labels_ == c].mean() if (km.labels_ == c).any() else -1 for c in range(k)]
    )
    rank = np.empty(k, int)
    rank[np.argsort(-means)] = np.arange(k)
    return rank[km.labels_].astype(np.int16)


def _rule_mask(frame: pd.DataFrame, cond: Any, where: str) -> np.ndarray:
    if not isinstance(cond, dict) or set(cond) - {"field", "op", "value"}:
        raise InputError([Issue(where, "rule_shape")], "segmentation")
    field, op, value = cond.get("field"), cond.get("op"), cond.get("value")
    if field not in RULE_FIELDS or field not in frame.columns:
        raise InputError(
            [
                Issue(
                    f"{where}.field",
                    "rule_field",
                    {
                        "field": str(field)[:40],
                        "known": ", ".join(f for f in RULE_FIELDS if f in frame.columns),
                    },
                )
            ],
            "segmentation",
        )
    col = frame[field]
    if op == "in":
        if not isinstance(value, list):
            raise InputError([Issue(f"{where}.value", "not_list")], "segmentation")
        return col.astype(str).isin([str(v) for v in value]).to_numpy()
    if op not in RULE_OPS:
        raise InputError(
            [
                Issue(
                    f"{where}.op",
                    "rule_op",
                    {"op": str(op)[:10], "known": ", ".join([*RULE_OPS, "in"])},
                )
            ],
            "segmentation",
        )
    if pd.api.types.is_numeric_dtype(col):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(
                [Issue(f"{where}.value", "not_number", {"value": str(value)[:40]})], "segmentation"
            )
        return RULE_OPS[op](col.to_numpy(float), float(value)) & col.notna().to_numpy()
    if op not in ("==", "!="):
        raise InputError([Issue(f"{where}.op", "rule_op_text", {"op": op})], "segmentation")
    return RULE_OPS[op](col.astype(str).to_numpy(), str(value))


def rules(frame: pd.DataFrame, spec: Any, default: str = "other") -> tuple[np.ndarray, list[str]]:
    """First matching rule wins; conditions of one rule are combined with AND. Never ``eval``."""
    if not isinstance(spec, list) or not spec:
        raise _bad("rules", "rules_missing")
    if len(spec) > MAX_RULES:
        raise _bad("rules", "list_too_long", limit=MAX_RULES)
    names: list[str] = []
    labels = np.full(len(frame), -1, np.int16)
    for i, rule in enumerate(spec):
        where = f"segmentation.params.rules[{i + 1}]"
        if (
            not isinstance(rule, dict)
            or not isinstance(rule.get("segment"), str)
            or not (rule["segment"].strip())
            or set(rule) - {"segment", "conditions"}
        ):
            raise InputError([Issue(where, "rule_shape")], "segmentation")
        name = rule["segment"].strip()[:40]
        conds = rule.get("conditions", [])
        if not isinstance(conds, list):
            raise InputError([Issue(f"{where}.conditions", "not_list")], "segmentation")
        mask = np.ones(len(frame), bool)
        for j, cond in enumerate(conds):
            mask &= _rule_mask(frame, cond, f"{where}.conditions[{j + 1}]")
        if name not in names:
            names.append(name)
        labels[(labels < 0) & mask] = names.index(name)
    if (labels < 0).any():
        if default not in names:
            names.append(default)
        labels[labels < 0] = names.index(default)
    return labels, names


def profile(frame: pd.DataFrame, labels: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Count, share, revenue share, mean R/F/M and mean surveyed satisfaction per segment."""
    df = pd.DataFrame(
        {
            "seg": labels,
            "recency": frame["recency"].to_numpy(float),
            "frequency": frame["frequency"].to_numpy(float),
            "monetary": frame["monetary"].to_numpy(float),
            "revenue": frame["revenue_12m"].to_numpy(float),
            "survey": frame["survey_score"].to_numpy(float) if "survey_score" in frame else np.nan,
        }
    )
    g = df.groupby("seg")
    out = pd.DataFrame({"segment": names}, index=range(len(names)))
    out["count"] = g.size().reindex(out.index, fill_value=0).to_numpy()
    out["share"] = out["count"] / max(len(df), 1)
    total = df["revenue"].sum()
    out["revenue_share"] = (
        g["revenue"].sum().reindex(out.index, fill_value=0) / (total if total > 0 else 1)
    ).to_numpy()
    for col in ("recency", "frequency", "monetary"):
        out[f"mean_{col}"] = g[col].mean().reindex(out.index).to_numpy()
    out["mean_survey"] = g["survey"].mean().reindex(out.index).to_numpy()
    return out


def full_params(method: str, params: dict | None) -> dict:
    """A method's parameters with its defaults filled in, so two ways of writing the same
    segmentation (``{}`` and ``{"shares": [0.1, 0.3, 0.6]}`` for the pyramid) compare equal."""
    out = dict(params or {})
    if method in DEFAULT_SHARES:
        # not shares at all: compared as written (and refused by ``segment``)
        with contextlib.suppress(TypeError, ValueError):
            out["shares"] = [round(float(x), 9) for x in out.get("shares", DEFAULT_SHARES[method])]
    elif method == "kmeans":
        out.setdefault("k", 4)
        out["features"] = list(out.get("features", DEFAULT_FEATURES))
    elif method == "rules":
        out.setdefault("default", "other")
    return out


def segment(
    frame: pd.DataFrame,
    method: str,
    params: dict | None = None,
    seed: int = 42,
    margin_rate: float = 0.3,
    base_churn: float = 0.02,
) -> Segmentation:
    """Segment customers with ``method`` (rfm, abc, pyramid, clv, kmeans, rules)."""
    params = dict(params or {})
    value = frame["monetary"].to_numpy(float)
    new_segment: str | None = None
    allowed = {
        "rfm": set(),
        "abc": {"shares"},
        "pyramid": {"shares"},
        "clv": {"shares"},
        "kmeans": {"k", "features"},
        "rules": {"rules", "default"},
    }
    if method not in allowed:
        raise InputError(
            [
                Issue(
                    "segmentation.method",
                    "not_allowed",
                    {"value": str(method)[:20], "limit": ", ".join(allowed)},
                )
            ],
            "segmentation",
        )
    extra = set(params) - allowed[method]
    if extra:
        raise _bad(sorted(extra)[0], "unknown_key")
    if method == "rfm":
        labels, names = rfm(frame), list(RFM_SEGMENTS)
        new_segment = "new"
    elif method == "abc":
        shares = _shares(params, "shares", DEFAULT_SHARES["abc"])
        order = np.argsort(-value, kind="stable")
        total = value.sum() if value.sum() > 0 else 1.0
        cum_before = (np.cumsum(value[order]) - value[order]) / total
        lab_sorted = np.searchsorted(np.cumsum(shares)[:-1], cum_before + 1e-12, side="right")
        labels = np.empty(len(value), np.int16)
        labels[order] = lab_sorted
        names = list(ABC)
    elif method == "pyramid":
        labels, names = (
            _by_rank(value, _shares(params, "shares", DEFAULT_SHARES["pyramid"])),
            list(PYRAMID),
        )
    elif method == "clv":
        est = clv_estimate(frame, margin_rate, base_churn)
        labels = _by_rank(est, _shares(params, "shares", DEFAULT_SHARES["clv"]))
        names = list(CLV_TIERS)
    elif method == "kmeans":
        k = params.get("k", 4)
        if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 10:
            raise _bad("k", "k_range")
        feats = tuple(params.get("features", DEFAULT_FEATURES))
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        if not feats or any(f not in numeric for f in feats):
            raise _bad("features", "features_invalid", known=", ".join(numeric))
        if len(frame) < k:
            raise _bad("k", "k_too_many", n=len(frame))
        labels, names = kmeans(frame, k, feats, seed), [f"cluster_{i + 1}" for i in range(k)]
    else:
        labels, names = rules(frame, params.get("rules"), str(params.get("default", "other"))[:40])
    return Segmentation(
        method, labels.astype(np.int16), names, frame, new_segment or names[-1], params
    )


def segment_names(method: str, params: dict | None = None) -> list[str] | None:
    """The segment names a method can produce, known before any customer is seen (None when
    the method is unknown). Lets a case's status-quo plan be checked when the case loads."""
    params = params or {}
    fixed = {"rfm": RFM_SEGMENTS, "abc": ABC, "pyramid": PYRAMID, "clv": CLV_TIERS}
    if method in fixed:
        return list(fixed[method])
    if method == "kmeans":
        k = params.get("k", 4)
        return [f"cluster_{i + 1}" for i in range(k)] if isinstance(k, int) else None
    if method == "rules":
        spec = params.get("rules")
        names = (
            [
                r["segment"].strip()[:40]
                for r in spec
                if isinstance(r, dict) and isinstance(r.get("segment"), str)
            ]
            if isinstance(spec, list)
            else []
        )
        return [*names, str(params.get("default", "other"))[:40]]
    return None


NUMBER_COLUMNS = (
    "tenure_months",
    "recency",
    "frequency",
    "monetary",
    "revenue_12m",
    "complaints_12m",
    "survey_score",
)


def case_columns(case) -> tuple[str, ...]:
    """The observable columns a case's customers have (persons have an age band, companies
    an industry)."""
    second = "industry" if case.population.names == "company" else "age_band"
    return ("customer_id", "name", "city", "region", second, "channel", "stage", *NUMBER_COLUMNS)


def spec_issues(method: str, params: dict | None, columns: tuple[str, ...]) -> list[Issue]:
    """The problems segmenting by ``method`` with ``params`` meets on any customers with
    these columns, found before there are customers: the segmentation runs on a small
    stand-in table, so the checks are the very ones a real segmentation makes."""
    n = 24
    frame = pd.DataFrame(
        {
            c: (np.arange(n, dtype=float) + 1.0)
            if c in NUMBER_COLUMNS
            else [f"x{i}" for i in range(n)]
            for c in columns
        }
    )
    try:
        segment(frame, method, params)
    except InputError as exc:
        return exc.issues
    return []


def segment_for_case(
    frame: pd.DataFrame, method: str, params: dict | None, case, seed: int = 42
) -> Segmentation:
    """``segment`` with the case's margin and churn feeding the CLV-tier estimate."""
    return segment(
        frame, method, params, seed, case.population.margin_rate, case.population.base_churn
    )


def provisional_frame(customers: pd.DataFrame, traits) -> pd.DataFrame:
    """The firm's prior view before any history: value from expected spend, nothing observed."""
    monthly = (traits.wallet * traits.sow0).astype(float)
    frame = customers.copy()
    frame["recency"] = 0
    frame["frequency"] = np.round(traits.purchase_rate * 12).astype(int)
    frame["monetary"] = monthly
    frame["revenue_12m"] = monthly * 12
    frame["survey_score"] = np.nan
    frame["complaints_12m"] = 0
    return frame
