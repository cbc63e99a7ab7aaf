"""Purchase logs in the shape of the UCI Online Retail export, drawn from the buy-till-you-die
story: the shipped ``online_retail_sample.csv``, test files and the 100k/1M-row benchmarks.

Each customer's first invoice falls in the first months; repeat invoices follow a Poisson
process with rate λ ~ Gamma(r, α) (per week) until she drops out, after each invoice with
probability p ~ Beta(a, b) (BG/NBD, Fader, Hardie & Lee 2005); an invoice has a geometric
number of lines, each with a quantity and a unit price around her own mean spend (Gamma-Gamma:
ν ~ Gamma(q, v)). As in the real export: invoice numbers, stock codes, descriptions, dates as
``12/1/2010 8:26`` (month first), ids as ``17850.0``, guest invoices with no customer id,
cancellations (invoice numbers starting ``C``, negative quantities) and a few free items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HEADER = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice")
PRODUCTS = (
    "WHITE HANGING HEART T-LIGHT HOLDER",
    "REGENCY CAKESTAND 3 TIER",
    "JUMBO BAG RED RETROSPOT",
    "PARTY BUNTING",
    "LUNCH BAG RED RETROSPOT",
    "ASSORTED COLOUR BIRD ORNAMENT",
    "SET OF 3 CAKE TINS PANTRY DESIGN",
    "PACK OF 72 RETROSPOT CAKE CASES",
    "NATURAL SLATE HEART CHALKBOARD",
    "HEART OF WICKER SMALL",
    "JAM MAKING SET WITH JARS",
    "PAPER CHAIN KIT 50'S CHRISTMAS",
    "SPOTTY BUNTING",
    "LUNCH BAG BLACK SKULL.",
    "SET OF 4 PANTRY JELLY MOULDS",
    "VICTORIAN GLASS HANGING T-LIGHT",
)
COUNTRIES = ("United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium")
COUNTRY_MIX = np.array([0.82, 0.05, 0.05, 0.03, 0.02, 0.02, 0.01])


@dataclass(frozen=True)
class Shape:
    """The story's parameters (weeks; money per line in pounds)."""

    r: float = 0.9
    alpha: float = 9.0
    a: float = 0.6
    b: float = 3.5
    p: float = 3.0
    q: float = 4.0
    v: float = 40.0
    lines_mean: float = 6.0
    guest_share: float = 0.25  # of invoice lines with no customer id (guest checkouts)
    cancel_share: float = 0.02  # of invoices cancelled later
    start: str = "2010-12-01"
    entry_weeks: float = 13.0
    weeks: float = 52.0


def online_retail_log(
    customers: int, seed: int = 2010, shape: Shape = Shape(), rows: int | None = None
) -> pd.DataFrame:
    """A log of about ``rows`` invoice lines (or as many as ``customers`` make), columns as in
    the UCI Online Retail CSV, oldest first."""
    rng = np.random.default_rng(seed)
    invoices = _invoices(rng, customers, shape)
    if rows is not None:  # scale the number of lines to reach the row count asked for
        lines_mean = max(rows * (1 - shape.guest_share) / max(len(invoices), 1), 1.0)
    else:
        lines_mean = shape.lines_mean
    n_guest = int(len(invoices) * shape.guest_share / max(1 - shape.guest_share, 1e-9))
    guests = pd.DataFrame(
        {
            "customer": np.full(n_guest, -1),
            "time": rng.uniform(0, shape.weeks, n_guest),
            "nu": rng.gamma(shape.q, 1 / shape.v, n_guest),
        }
    )
    inv = pd.concat([invoices, guests], ignore_index=True).sort_values("time", kind="stable")
    inv = inv.reset_index(drop=True)
    inv["number"] = 536365 + np.arange(len(inv))
    n_lines = rng.geometric(1 / lines_mean, len(inv))
    if rows is not None:
        n_lines = _fit_rows(n_lines, rows, rng)
    at = np.repeat(np.arange(len(inv)), n_lines)
    k = len(at)
    price = np.round(rng.gamma(shape.p, 1 / inv["nu"].to_numpy()[at]) / 12 + 0.05, 2)
    qty = rng.choice([1, 2, 3, 4, 6, 12, 24], size=k, p=[0.3, 0.15, 0.1, 0.1, 0.15, 0.15, 0.05])
    price[rng.random(k) < 0.003] = 0.0  # free items, as in the real export
    code = rng.integers(0, len(PRODUCTS), k)
    cancel = np.repeat(rng.random(len(inv)) < shape.cancel_share, n_lines)
    number = inv["number"].to_numpy()[at].astype(str).astype(object)
    number[cancel] = "C" + number[cancel]
    qty = np.where(cancel, -qty, qty)
    when = pd.Timestamp(shape.start) + pd.to_timedelta(
        inv["time"].to_numpy()[at] * 7 * 24 * 60 + 8 * 60, unit="min"
    )
    cust = inv["customer"].to_numpy()[at]
    ids = np.where(cust >= 0, (12346 + cust).astype(str), "")
    ids = np.char.add(ids, np.where(cust >= 0, ".0", ""))
    country = rng.choice(len(COUNTRIES), size=len(inv), p=COUNTRY_MIX)[at]
    return pd.DataFrame(
        {
            "InvoiceNo": number,
            "StockCode": (85000 + code * 7).astype(str),
            "Description": np.asarray(PRODUCTS, dtype=object)[code],
            "Quantity": qty,
            "InvoiceDate": _uci_dates(when),
            "UnitPrice": price,
            "CustomerID": ids,
            "Country": np.asarray(COUNTRIES, dtype=object)[country],
        }
    )


def _invoices(rng: np.random.Generator, n: int, s: Shape) -> pd.DataFrame:
    """Invoice times (weeks from the start) of ``n`` customers: a first purchase in the entry
    window, then Poisson repeats until dropout after a purchase."""
    lam = rng.gamma(s.r, 1 / s.alpha, n)
    p = rng.beta(s.a, s.b, n)
    nu = rng.gamma(s.q, 1 / s.v, n)
    first = rng.uniform(0, s.entry_weeks, n)
    # the number of purchases before dropout is geometric; the Poisson times beyond the end
    # of the window are cut off
    lives = rng.geometric(np.clip(p, 1e-6, 1))  # purchases up to and including dropout's
    horizon = s.weeks - first
    # a Poisson process's times given its count are uniform; dropout keeps the earliest ones
    owner = np.repeat(np.arange(n), rng.poisson(lam * horizon))
    times = first[owner] + rng.uniform(0, 1, len(owner)) * horizon[owner]
    rep = pd.DataFrame({"customer": owner, "time": times}).sort_values(["customer", "time"])
    rank = rep.groupby("customer").cumcount().to_numpy()
    rep = rep[rank < lives[rep["customer"].to_numpy()] - 1]
    frame = pd.concat([pd.DataFrame({"customer": np.arange(n), "time": first}), rep])
    frame["nu"] = nu[frame["customer"].to_numpy()]
    return frame.sort_values(["customer", "time"], kind="stable").reset_index(drop=True)


def _fit_rows(n_lines: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    """Adjust the lines per invoice so they add up to exactly ``rows``."""
    total = int(n_lines.sum())
    if total > rows:
        excess = total - rows
        cut = np.minimum(n_lines - 1, np.maximum(1, excess // len(n_lines) + 1))
        cum = np.cumsum(cut)
        cut = np.where(cum <= excess, cut, np.maximum(cut - (cum - excess), 0))
        n_lines = n_lines - cut
    while int(n_lines.sum()) < rows:
        need = rows - int(n_lines.sum())
        add = rng.integers(0, len(n_lines), min(need, len(n_lines)))
        np.add.at(n_lines, add, 1)
    return n_lines


def _uci_dates(when: pd.DatetimeIndex) -> np.ndarray:
    """``12/1/2010 8:26``: month/day/year without zero padding, as the common CSV copy has."""
    w = pd.DatetimeIndex(when)
    parts = [w.month.astype(str), "/", w.day.astype(str), "/", w.year.astype(str), " "]
    out = parts[0]
    for part in parts[1:]:
        out = np.char.add(out.astype(str), part if isinstance(part, str) else part.astype(str))
    return np.char.add(
        np.char.add(out, w.hour.astype(str)), np.char.add(":", w.strftime("%M").astype(str))
    ).astype(object)


SAMPLE_CUSTOMERS = 600
SAMPLE_SEED = 2010


def write_sample(path: str) -> int:
    """Write the shipped ``online_retail_sample.csv`` (always the same file); its row count."""
    log = online_retail_log(SAMPLE_CUSTOMERS, SAMPLE_SEED, Shape(lines_mean=4.0))
    log.to_csv(path, index=False, lineterminator="\n")
    return len(log)


if __name__ == "__main__":  # python -m crmsim.purchases.synthetic OUT.csv
    import sys

    print(write_sample(sys.argv[1] if len(sys.argv) > 1 else "online_retail_sample.csv"))
