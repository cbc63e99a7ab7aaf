"""Purchase-log benchmark (issue 18): read + fit time and peak memory of a 100k- and a
1M-row log in the UCI Online Retail layout, and lifetimes on the same files as reference.

    python benchmarks/bench_purchase_logs.py            # both sizes, prints the README table
    python benchmarks/bench_purchase_logs.py --rows 100000

Each measurement runs in a fresh Python process, so its peak memory (the process's maximum
resident set) is its own. The logs are drawn by ``crmsim.purchases.synthetic`` (the shipped
sample's generator) into a temporary folder. lifetimes (if installed) reads the same file with
pandas, does the same cleaning (guests, cancellations, amount = quantity × unit price), builds
its calibration/holdout summary and fits BetaGeoFitter and GammaGammaFitter.
Not part of the test run; results go to ``benchmarks/results/purchase_logs.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALIBRATION_END = "2011-08-31"  # the logs run 2010-12-01 .. 2011-11-30

OURS = """
import json, resource, sys, time
from pathlib import Path
from crmsim.transactions import analyse, read_transactions
t0 = time.perf_counter()
raw = Path(sys.argv[1]).read_bytes()
tx = read_transactions(raw)
t1 = time.perf_counter()
found = analyse(tx, sys.argv[2], unit="W")
t2 = time.perf_counter()
print(json.dumps({"read_s": t1 - t0, "fit_s": t2 - t1, "customers": len(found.summary),
    "rows_kept": len(tx.frame), "r": found.bgnbd.r,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

LIFETIMES = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import calibration_and_holdout_data
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1], dtype={"InvoiceNo": str, "CustomerID": str})
df = df[df["CustomerID"].notna() & ~df["InvoiceNo"].str.startswith("C")]
df = df.assign(amount=df["Quantity"] * df["UnitPrice"],
               date=pd.to_datetime(df["InvoiceDate"], format="%m/%d/%Y %H:%M"))
df = df[df["amount"] > 0]
t1 = time.perf_counter()
s = calibration_and_holdout_data(df, "CustomerID", "date", calibration_period_end=sys.argv[2],
    freq="W", monetary_value_col="amount")
t2 = time.perf_counter()
bg = BetaGeoFitter(penalizer_coef=0.0).fit(s["frequency_cal"], s["recency_cal"], s["T_cal"])
rep = s[s["frequency_cal"] > 0]
try:
    GammaGammaFitter(penalizer_coef=0.0).fit(rep["frequency_cal"], rep["monetary_value_cal"])
except Exception:
    pass
t3 = time.perf_counter()
print(json.dumps({"read_s": t1 - t0, "summary_s": t2 - t1, "fit_s": t3 - t2,
    "customers": len(s), "r": float(bg.params_["r"]),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(code: str, *args: str) -> dict | None:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _has_lifetimes() -> bool:
    return (
        subprocess.run([sys.executable, "-c", "import lifetimes"], capture_output=True).returncode
        == 0
    )


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from crmsim.bench import machine
    from crmsim.purchases.synthetic import online_retail_log

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, action="append", help="log size (repeatable)")
    args = p.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    results = {"machine": machine(), "calibration_end": CALIBRATION_END, "runs": []}
    with tempfile.TemporaryDirectory(prefix="crm_bench_logs_") as tmp:
        for rows in sizes:
            path = Path(tmp) / f"log_{rows}.csv"
            online_retail_log(max(rows // 20, 100), seed=7, rows=rows).to_csv(
                path, index=False, lineterminator="\n"
            )
            run = {"rows": rows, "mb": path.stat().st_size / 2**20}
            run["crmlab"] = _child(OURS, str(path), CALIBRATION_END)
            run["lifetimes"] = (
                _child(LIFETIMES, str(path), CALIBRATION_END) if _has_lifetimes() else None
            )
            print(json.dumps(run), flush=True)
            results["runs"].append(run)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "purchase_logs.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nMachine: {results['machine']}")
    print(
        "| rows | file | CRM Lab read | fit | peak memory | lifetimes read + summary + fit | peak |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for run in results["runs"]:
        ours, ref = run["crmlab"] or {}, run["lifetimes"]
        ref_text = (
            f"{ref['read_s']:.1f} + {ref['summary_s']:.1f} + {ref['fit_s']:.1f} s | "
            f"{ref['peak_mb']:,.0f} MB"
            if ref
            else "not installed | "
        )
        print(
            f"| {run['rows']:,} | {run['mb']:.0f} MB | {ours.get('read_s', 0):.1f} s | "
            f"{ours.get('fit_s', 0):.1f} s | {ours.get('peak_mb', 0):,.0f} MB | {ref_text} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
