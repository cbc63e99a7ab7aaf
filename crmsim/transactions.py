"""Real purchase logs: import, RFM summary, BG/NBD + Gamma-Gamma CLV, a population like it.

The buy-till-you-die convention (Fader, Hardie & Lee 2005, "Counting your customers the easy
way: an alternative to the Pareto/NBD model", Marketing Science 24(2)): purchases on one day
count once; ``frequency`` x is the number of repeat purchase days, ``recency`` t_x the time from
the first to the last purchase, ``T`` the time from the first purchase to the end of the
calibration period, all in a chosen unit (days, weeks, months); ``monetary`` is the mean spend
of the repeat purchase days. Spend per transaction follows the Gamma-Gamma model (Fader, Hardie
& Lee 2005, "RFM and CLV: using iso-value curves for customer base analysis", JMR 42(4);
Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").

Every problem with a file is an ``Issue`` naming the column (and rows); things that were
cleaned rather than refused (returns, duplicates, blank amounts) are reported as notes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy import optimize, special

from crmsim.errors import InputError, Issue
from crmsim.reading import (
    TRANSACTIONS,
    check_date_format,
    header_key,
    match_header,
    normalise_ids,
    parse_dates,
    parse_numbers,
    read_table,
    rows_text,
)

MAX_BYTES = TRANSACTIONS.max_bytes
MAX_ROWS = TRANSACTIONS.max_rows
MAX_COLUMNS = TRANSACTIONS.max_columns
MIN_FIT_CUSTOMERS = 20
MAX_UNREADABLE = 0.01  # a share of rows with unreadable dates or amounts left out with a note
UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}
GUESSES = {
    "customer": (
        "customer_id",
        "customer",
        "cust_id",
        "client_id",
        "member_id",
        "user_id",
        "id",
        "客户编号",
        "客户id",
        "客户号",
        "会员号",
        "会员编号",
        "用户id",
        "客户",
    ),
    "date": (
        "date",
        "order_date",
        "purchase_date",
        "transaction_date",
        "invoice_date",
        "日期",
        "交易日期",
        "购买日期",
        "下单日期",
        "订单日期",
    ),
    "amount": (
        "amount",
        "value",
        "sales",
        "revenue",
        "dollar_value",
        "price",
        "total",
        "金额",
        "消费金额",
        "交易金额",
        "订单金额",
        "销售额",
    ),
}


@dataclass
class Transactions:
    """Clean purchases (customer_id str, date datetime64, amount float) and what was cleaned."""

    frame: pd.DataFrame
    notes: list[Issue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str = ""
    encoding: str = "utf-8"

    @property
    def first_date(self) -> pd.Timestamp:
        return self.frame["date"].min()

    @property
    def last_date(self) -> pd.Timestamp:
        return self.frame["date"].max()


HEADER_WORDS = frozenset(header_key(n) for names in GUESSES.values() for n in names)


def guess_columns(header: list[str]) -> dict[str, str | None]:
    """The most likely customer, date and amount columns of a header (None when unsure);
    case, spaces and ``_`` do not matter (``CustomerID``, ``Invoice Date``)."""
    found = match_header(header, {role: names for role, names in GUESSES.items()})
    return {role: found.get(role) for role in GUESSES}


def read_transactions(
    raw: bytes,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
    date_format: str | None = None,
    source: str = "transactions",
    today: date | None = None,
    drop_duplicates: bool = False,
    *,
    day_first: bool | None = None,
) -> Transactions:
    """Parse and check a transactions CSV (one row per purchase).

    The file goes through the reading layer (``crmsim.reading``: size cap, encoding,
    delimiter, every row's field count, numbers, dates). Columns are mapped by name (guessed
    when not given). ``date_format`` forces a strftime format; ``day_first`` settles
    ``05/04/2024`` when both orders read every date (otherwise that is refused, not guessed).
    Returns (negative amounts) and blank amounts are left out and reported; so are a few
    (≤ 1%) unreadable dates or amounts. Rows repeating another exactly (same customer, day and
    amount) are reported and kept as separate purchases (in CDNOW they are real: two orders on
    one day), or left out with ``drop_duplicates`` when they are double exports. Refused with
    a message naming the column and rows: missing columns, unreadable dates or amounts,
    non-finite amounts, dates in the future, oversized files.
    """
    if date_format:
        check_date_format(date_format)
    chosen: dict[str, str | None] = {}

    def choose(header: list[str]) -> list[str]:
        guess = guess_columns(header)
        given = {"customer": customer_col, "date": date_col, "amount": amount_col}
        for role in GUESSES:
            chosen[role] = given[role] or guess[role]
        options = {"customer": "--customer-col", "date": "--date-col", "amount": "--amount-col"}
        issues = [
            Issue(role, "tx_column_missing", {"column": col, "known": ", ".join(header)})
            if col is not None
            else Issue(
                role, "tx_column_not_found", {"known": ", ".join(header), "option": options[role]}
            )
            for role, col in chosen.items()
            if col is None or col not in header
        ]
        if issues:
            raise InputError(issues, source)
        return [chosen["customer"], chosen["date"], chosen["amount"]]

    table = read_table(
        raw, TRANSACTIONS, source, choose, HEADER_WORDS, ("tx_no_rows", "tx_too_many_rows")
    )
    df = table.frame
    cust, scientific = normalise_ids(df[chosen["customer"]])
    try:
        dates = parse_dates(df[chosen["date"]], chosen["date"], date_format, day_first)
    except InputError as exc:  # an ambiguous order: a problem of this file
        raise InputError(exc.issues, source) from None
    amounts = parse_numbers(df[chosen["amount"]])
    issues, notes = [], []
    if (cust == "").any():
        issues.append(Issue(chosen["customer"], "column_blank", {"rows": rows_text(cust == "")}))
    if scientific.any():
        issues.append(
            Issue(chosen["customer"], "column_id_scientific", {"rows": rows_text(scientific)})
        )
    bad_dates = dates.values.isna()
    if bad_dates.all() or bad_dates.mean() > MAX_UNREADABLE:
        issues.append(Issue(chosen["date"], "tx_bad_dates", {"rows": rows_text(bad_dates)}))
    elif bad_dates.any():
        notes.append(Issue(chosen["date"], "tx_dates_dropped", {"rows": rows_text(bad_dates)}))
    today = pd.Timestamp(today or date.today())
    future = dates.values > today
    if future.any():
        issues.append(
            Issue(
                chosen["date"],
                "tx_future",
                {"rows": rows_text(future), "today": f"{today:%Y-%m-%d}"},
            )
        )
    if amounts.not_finite.any():
        issues.append(
            Issue(chosen["amount"], "column_not_finite", {"rows": rows_text(amounts.not_finite)})
        )
    unreadable = amounts.bad
    if unreadable.mean() > MAX_UNREADABLE:
        issues.append(Issue(chosen["amount"], "column_not_number", {"rows": rows_text(unreadable)}))
    if amounts.values.isna().all() and not issues:
        issues.append(Issue(chosen["amount"], "column_empty"))
    if issues:
        raise InputError(issues, source)
    if unreadable.any():
        notes.append(Issue(chosen["amount"], "tx_amounts_dropped", {"rows": rows_text(unreadable)}))
    blank = amounts.values.isna() & ~unreadable
    if blank.any():
        notes.append(Issue(chosen["amount"], "tx_blank_amounts", {"rows": rows_text(blank)}))
    frame = pd.DataFrame({"customer_id": cust, "date": dates.values, "amount": amounts.values})
    keep = ~(amounts.values.isna() | bad_dates)
    returns = keep & (frame["amount"] < 0)
    if returns.any():
        notes.append(
            Issue(
                chosen["amount"],
                "tx_returns",
                {
                    "count": int(returns.sum()),
                    "total": f"{-frame.loc[returns, 'amount'].sum():,.2f}",
                },
            )
        )
    frame = frame[keep & ~returns]
    dup = frame.duplicated()
    if dup.any():
        key = "tx_duplicates_dropped" if drop_duplicates else "tx_duplicates_kept"
        notes.append(Issue("", key, {"count": int(dup.sum())}))
        if drop_duplicates:
            frame = frame[~dup]
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise InputError([Issue(chosen["amount"], "column_empty")], source)
    return Transactions(frame, notes, dict(chosen), dates.format, table.encoding)


# -- RFM summary ---------------------------------------------------------------------------
def rfm_summary(
    tx: Transactions | pd.DataFrame,
    calibration_end: str | pd.Timestamp | None = None,
    observation_end: str | pd.Timestamp | None = None,
    unit: str = "W",
) -> pd.DataFrame:
    """One row per customer who bought by ``calibration_end``: frequency, recency, T, monetary
    (mean repeat-day spend), first purchase, total spend; with an observation end after it, also
    the holdout's ``frequency_holdout``, ``monetary_holdout`` and ``duration_holdout``."""
    frame = tx.frame if isinstance(tx, Transactions) else tx
    if unit not in UNITS:
        raise InputError([Issue("unit", "not_allowed", {"limit": ", ".join(UNITS)})], "summary")
    days = UNITS[unit]
    last = frame["date"].max()
    cal_end = pd.Timestamp(calibration_end) if calibration_end is not None else last
    obs_end = pd.Timestamp(observation_end) if observation_end is not None else last
    first = frame["date"].min()
    if calibration_end is None and not first < last:
        raise InputError([Issue("date", "tx_one_day")], "summary")
    if not first < cal_end <= last:
        raise InputError(
            [
                Issue(
                    "calibration_end",
                    "tx_calibration_end",
                    {"first": f"{first:%Y-%m-%d}", "last": f"{last:%Y-%m-%d}"},
                )
            ],
            "summary",
        )
    if obs_end < cal_end:
        raise InputError([Issue("observation_end", "tx_observation_end")], "summary")
    daily = frame.groupby(["customer_id", "date"], sort=True, as_index=False)["amount"].sum()
    cal = daily[daily["date"] <= cal_end]
    g = cal.groupby("customer_id", sort=True)
    first_day = g["date"].min()
    last_day = g["date"].max()
    n_days = g.size()
    total = g["amount"].sum()
    first_amount = g["amount"].first()
    out = pd.DataFrame(
        {
            "frequency": (n_days - 1).astype(int),
            "recency": (last_day - first_day).dt.days / days,
            "T": (cal_end - first_day).dt.days / days,
            "monetary": np.where(
                n_days > 1, (total - first_amount) / np.maximum(n_days - 1, 1), 0.0
            ),
            "first_purchase": first_day,
            "last_purchase": last_day,
            "total_spend": total,
        }
    )
    if obs_end > cal_end:
        hold = daily[(daily["date"] > cal_end) & (daily["date"] <= obs_end)]
        hg = hold.groupby("customer_id")
        out["frequency_holdout"] = hg.size().reindex(out.index, fill_value=0).astype(int)
        out["monetary_holdout"] = hg["amount"].mean().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = (obs_end - cal_end).days / days
    out.index.name = "customer_id"
    return out


# -- BG/NBD --------------------------------------------------------------------------------
@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD: purchase rate λ ~ Gamma(r, α); dropout after a purchase p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int

    def as_dict(self) -> dict:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
        }

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """P(still active at T | x, t_x, T) (FHL 2005, eq. 11)."""
        x, t_x, T = (np.asarray(v, float) for v in (x, t_x, T))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ratio, 0.0)
        return 1.0 / (1.0 + odds)

    def expected(self, t, x, t_x, T) -> np.ndarray:
        """Expected purchases in (T, T + t] given x, t_x, T (FHL 2005, eq. 10)."""
        t, x, t_x, T = (np.asarray(v, float) for v in (t, x, t_x, T))
        r, alpha, a, b = self.r, self.alpha, _off_one(self.a), self.b
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        tail = 1 + np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ratio, 0.0)
        return head * body / tail

    def expected_new(self, t) -> np.ndarray:
        """Expected purchases in (0, t] of a customer just acquired (FHL 2005, eq. 7)."""
        t = np.asarray(t, float)
        r, alpha, a, b = self.r, self.alpha, _off_one(self.a), self.b
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def _off_one(a: float) -> float:
    """The expectation formulas divide by a − 1; a = 1 is a removable singularity."""
    return a + 1e-7 if abs(a - 1) < 1e-7 else a


def _bgnbd_ll(params: np.ndarray, x, t_x, T, w) -> float:
    r, alpha, a, b = np.exp(params)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    ll = a1 + a2 + np.logaddexp(a3, a4)
    return float(-(w * ll).sum())


def _grouped(*cols) -> tuple[np.ndarray, ...]:
    """Identical rows once, with their counts as weights (CDNOW: 23,570 rows → a few thousand)."""
    stacked = np.column_stack([np.asarray(c, float) for c in cols])
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    return (*uniq.T, counts.astype(float))


def _need_customers(n: int) -> None:
    if n < MIN_FIT_CUSTOMERS:
        raise InputError([Issue("", "tx_too_few", {"n": n, "min": MIN_FIT_CUSTOMERS})], "fit")


def fit_bgnbd(summary: pd.DataFrame) -> BGNBD:
    """Maximum-likelihood BG/NBD on frequency, recency, T (FHL 2005, eq. 6)."""
    _need_customers(len(summary))
    if (summary["frequency"] == 0).all():
        raise InputError([Issue("", "tx_no_repeat")], "fit")
    x, t_x, T, w = _grouped(summary["frequency"], summary["recency"], summary["T"])
    scale = 10.0 / max(float(T.max()), 1e-9)  # fit in a unit where T is ~10: better conditioned
    best = None
    for start in (np.log([1.0, 1.0, 1.0, 1.0]), np.log([0.5, 5.0, 0.5, 2.0])):
        res = optimize.minimize(
            _bgnbd_ll,
            start,
            args=(x, t_x * scale, T * scale, w),
            method="L-BFGS-B",
            bounds=[(-12, 8)] * 4,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        if best is None or res.fun < best.fun:
            best = res
    r, alpha, a, b = np.exp(best.x)
    alpha /= scale
    ll = -_bgnbd_ll(np.log([r, alpha, a, b]), x, t_x, T, w)
    return BGNBD(float(r), float(alpha), float(a), float(b), ll, len(summary))


# -- Gamma-Gamma ---------------------------------------------------------------------------
@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend model: transaction values ~ Gamma(p, ν), ν ~ Gamma(q, v)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n: int

    def as_dict(self) -> dict:
        return {"p": self.p, "q": self.q, "v": self.v, "log_likelihood": self.log_likelihood}

    def expected_spend(self, x, m) -> np.ndarray:
        """E[spend per purchase | x repeat purchases with mean m] (Fader & Hardie 2013, eq. 5);
        customers with no repeat purchase get the population mean p·v/(q − 1)."""
        x, m = np.asarray(x, float), np.asarray(m, float)
        p, q, v = self.p, self.q, self.v
        population = p * v / (q - 1)
        cond = p * (v + x * m) / np.maximum(p * x + q - 1, 1e-12)
        return np.where(x > 0, cond, population)


def _gg_ll(params: np.ndarray, x, m, w) -> float:
    p, q, v = np.exp(params)
    ll = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + (p * x) * np.log(x)
        - (p * x + q) * np.log(v + x * m)
    )
    return float(-(w * ll).sum())


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on repeat buyers' frequency and mean repeat spend."""
    rep = summary[(summary["frequency"] > 0) & (summary["monetary"] > 0)]
    _need_customers(len(rep))
    x, m, w = _grouped(rep["frequency"], rep["monetary"])
    scale = 1.0 / float(np.median(m))
    best = None
    for start in (np.log([1.0, 1.0, 1.0]), np.log([5.0, 3.0, 1.0])):
        res = optimize.minimize(
            _gg_ll,
            start,
            args=(x, m * scale, w),
            method="L-BFGS-B",
            bounds=[(-10, 10)] * 3,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
        )
        if best is None or res.fun < best.fun:
            best = res
    p, q, v = np.exp(best.x)
    v /= scale
    ll = -_gg_ll(np.log([p, q, v]), x, m, w)
    return GammaGamma(float(p), float(q), float(v), ll, len(rep))


# -- what the models say about each customer ----------------------------------------------
def holdout_table(summary: pd.DataFrame, model: BGNBD, cap: int = 7) -> pd.DataFrame:
    """Mean actual vs predicted holdout purchases by calibration frequency (0 … cap+)."""
    if "frequency_holdout" not in summary:
        raise InputError([Issue("observation_end", "tx_no_holdout")], "holdout")
    pred = model.expected(
        summary["duration_holdout"], summary["frequency"], summary["recency"], summary["T"]
    )
    df = pd.DataFrame(
        {
            "group": np.minimum(summary["frequency"].to_numpy(), cap),
            "actual": summary["frequency_holdout"].to_numpy(float),
            "predicted": pred,
        }
    )
    out = df.groupby("group").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    return out.reset_index()


def customer_values(
    summary: pd.DataFrame,
    bg: BGNBD,
    gg: GammaGamma,
    unit: str = "W",
    months: int = 12,
    annual_discount: float = 0.10,
    margin: float = 1.0,
) -> pd.DataFrame:
    """P(alive), expected purchases over the horizon, expected spend per purchase and
    discounted CLV (month by month: expected purchases × spend × margin / (1 + d)^i)."""
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    month = UNITS["M"] / UNITS[unit]
    spend = gg.expected_spend(x, summary["monetary"].to_numpy(float))
    d = (1 + annual_discount) ** (1 / 12) - 1
    clv = np.zeros(len(summary))
    before = np.zeros(len(summary))
    for i in range(1, months + 1):
        upto = bg.expected(i * month, x, t_x, T)
        clv += (upto - before) * spend * margin / (1 + d) ** i
        before = upto
    return pd.DataFrame(
        {
            "p_alive": bg.p_alive(x, t_x, T),
            "expected_purchases": before,
            "expected_spend": spend,
            "clv": clv,
        },
        index=summary.index,
    )


def segment_frame(summary: pd.DataFrame, values: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Real customers in the columns the segmentation methods read (recency in months since
    the last purchase, frequency = purchase days, monetary = mean spend per purchase day,
    revenue_12m = spend in the last 12 months of the calibration period approximated by the
    total spend per year of tenure)."""
    per_month = UNITS["M"] / UNITS[unit]
    tenure_months = np.maximum(summary["T"].to_numpy(float) / per_month, 1.0)
    return pd.DataFrame(
        {
            "customer_id": summary.index.astype(str),
            "recency": (summary["T"] - summary["recency"]).to_numpy(float) / per_month,
            "frequency": summary["frequency"].to_numpy() + 1,
            "monetary": summary["total_spend"].to_numpy(float) / (summary["frequency"] + 1),
            "revenue_12m": summary["total_spend"].to_numpy(float)
            * np.minimum(12 / tenure_months, 1),
            "clv": values["clv"].to_numpy(float),
            "p_alive": values["p_alive"].to_numpy(float),
        }
    )


def population_like(summary: pd.DataFrame, bg: BGNBD, unit: str, base, name: str = ""):
    """A case like ``base`` (a ``cases.Case``) whose customers are drawn to look like these:
    the wallet's median and spread from the customers' monthly spend, the purchase rate from
    purchase days per month, the dropout frailty from the BG/NBD Beta(a, b) (mean a/(a+b),
    concentration a+b), non-contractual buying. Money amounts of the base case are kept for its
    reference population size, so the plans and budget scale as usual."""
    from crmsim.population import generate

    per_month = UNITS["M"] / UNITS[unit]
    months = np.maximum(summary["T"].to_numpy(float) / per_month, 1.0)
    monthly = summary["total_spend"].to_numpy(float) / months
    monthly = monthly[monthly > 0]
    log_spend = np.log(monthly)
    rate = float((summary["frequency"].sum() + len(summary)) / months.sum())
    pop = base.population.model_copy(
        update={
            "purchase_rate": float(np.clip(rate, 0.05, 30)),
            "base_churn": float(np.clip(bg.a / (bg.a + bg.b), 0.001, 0.5)),
            "frailty_concentration": float(np.clip(bg.a + bg.b, 1.0, 200.0)),
            "wallet_median": 1.0,
            "wallet_sigma": 1.0,
        }
    )
    trial = base.model_copy(update={"population": pop, "kind": "noncontractual"})
    # spend is proportional to the wallet: one probe population fixes the scale and spread
    base_spend = generate(base, 4000, seed=1).customers["monetary"].to_numpy(float)
    probe = generate(trial, 4000, seed=1).customers["monetary"].to_numpy(float)
    probe = np.log(probe[probe > 0])
    other_var = max(float(probe.var()) - 1.0, 0.0)
    sigma = float(np.clip(np.sqrt(max(log_spend.var() - other_var, 0.04)), 0.2, 2.5))
    median = float(np.exp(np.median(log_spend) - np.median(probe) * sigma))
    median = float(np.clip(median, 1e-3, 1e9))  # inside the case schema's range, whatever the data
    pop = pop.model_copy(update={"wallet_median": median, "wallet_sigma": sigma})
    spend = float(np.exp(np.median(log_spend)))
    dropout = bg.a / (bg.a + bg.b)
    money = _scaled_money(base, spend / float(np.median(base_spend[base_spend > 0])))
    digest = hashlib.sha256(summary.to_csv().encode()).hexdigest()[:8]
    label = name or digest
    from crmsim.cases import Bilingual

    return base.model_copy(
        update={
            "id": f"like_{digest}",
            "version": "data",
            "kind": "noncontractual",
            "population": pop,
            "title": Bilingual(
                zh=f"与你的数据相似的客户（{label}）", en=f"Customers like your data ({label})"
            ),
            "narrative": Bilingual(
                zh=(
                    f"这批合成客户按你上传的交易数据拟合：每月消费中位数约 {spend:,.2f}，"
                    f"每月购买 {rate:.2f} 次，每次购买后流失概率均值 {dropout:.1%}"
                    f"（BG/NBD）。成本、预算和现行方案沿用案例“{base.title.zh}”，金额按消费水平等比例缩放。"
                ),
                en=(
                    f"These synthetic customers are fitted to your transactions: median monthly "
                    f"spend about {spend:,.2f}, {rate:.2f} purchases a month, "
                    f"mean dropout after a purchase {dropout:.1%} (BG/NBD). Costs, "
                    f'budget and status quo come from the case "{base.title.en}", with money '
                    f"scaled to this spend level."
                ),
            ),
            "events": [],
            **money,
        }
    )


def _scaled_money(base, factor: float) -> dict:
    """The base case's money (budget, lever costs, channel costs, status-quo amounts) scaled
    so service costs the same relative to what these customers spend."""
    costs = base.costs.model_copy(
        update={
            k: getattr(base.costs, k) * factor
            for k in ("care", "recovery", "cross_sell", "kam_salary")
        }
    )
    channels = {
        ch: spec.model_copy(update={"cost": spec.cost * factor})
        for ch, spec in base.acquisition.items()
    }
    sq = base.status_quo
    allocations = {
        seg: lv.model_copy(
            update={k: getattr(lv, k) * factor for k in ("care", "recovery", "cross_sell")}
        )
        for seg, lv in sq.allocations.items()
    }
    plan = sq.model_copy(
        update={
            "allocations": allocations,
            "acquisition": {ch: v * factor for ch, v in sq.acquisition.items()},
        }
    )
    return {
        "budget": base.budget * factor,
        "costs": costs,
        "acquisition": channels,
        "status_quo": plan,
    }


@dataclass
class Analysis:
    """Everything one fit says: the summary, both models, holdout check, per-customer values."""

    summary: pd.DataFrame
    bgnbd: BGNBD
    gamma_gamma: GammaGamma
    values: pd.DataFrame
    holdout: pd.DataFrame | None
    unit: str
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    seconds: float

    def report(self) -> dict:
        """The JSON the CLI writes (``clv --json``)."""
        out = {
            "customers": len(self.summary),
            "repeat_buyers": int((self.summary["frequency"] > 0).sum()),
            "time_unit": self.unit,
            "calibration_end": f"{self.calibration_end:%Y-%m-%d}",
            "observation_end": f"{self.observation_end:%Y-%m-%d}",
            "bgnbd": self.bgnbd.as_dict(),
            "gamma_gamma": self.gamma_gamma.as_dict(),
            "fit_seconds": self.seconds,
            "mean_p_alive": float(self.values["p_alive"].mean()),
            "total_clv": float(self.values["clv"].sum()),
        }
        if self.holdout is not None:
            out["holdout"] = {
                "actual": float(self.summary["frequency_holdout"].sum()),
                "predicted": float((self.holdout["predicted"] * self.holdout["customers"]).sum()),
                "by_frequency": self.holdout.to_dict(orient="records"),
            }
        return out


def analyse(
    tx: Transactions,
    calibration_end: str | pd.Timestamp | None = None,
    observation_end: str | pd.Timestamp | None = None,
    unit: str = "W",
    months: int = 12,
    annual_discount: float = 0.10,
    margin: float = 1.0,
) -> Analysis:
    """RFM summary, BG/NBD and Gamma-Gamma fits, holdout check and customer values in one go."""
    import time

    start = time.perf_counter()
    summary = rfm_summary(tx, calibration_end, observation_end, unit)
    bg = fit_bgnbd(summary)
    gg = fit_gamma_gamma(summary)
    values = customer_values(summary, bg, gg, unit, months, annual_discount, margin)
    holdout = holdout_table(summary, bg) if "frequency_holdout" in summary else None
    return Analysis(
        summary,
        bg,
        gg,
        values,
        holdout,
        unit,
        pd.Timestamp(calibration_end) if calibration_end is not None else tx.last_date,
        pd.Timestamp(observation_end) if observation_end is not None else tx.last_date,
        time.perf_counter() - start,
    )


def parse_day(text: str | None, field_name: str) -> pd.Timestamp | None:
    """A date typed by a user, read like a purchase log's dates (2024-03-31, 20240331,
    2024/3/31, 2024年3月31日), or an ``InputError``."""
    if text is None or str(text).strip() == "":
        return None
    try:
        read = parse_dates(pd.Series([str(text).strip()[:40]]), field_name)
    except InputError:
        read = None
    if read is None or read.bad.any():
        raise InputError([Issue(field_name, "tx_bad_day", {"value": str(text)[:30]})], field_name)
    return pd.Timestamp(read.values.iloc[0])
