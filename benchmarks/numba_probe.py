"""Would a compiled kernel meet the engine's budget? A measurement for issue 14 item 11.

    pip install "numba>=0.68,<0.69"     # not a dependency of CRM Lab
    python benchmarks/numba_probe.py

Compiles, with numba, a fused per-customer loop of most of the monthly update (failures,
delivered value, satisfaction with a problem's outcome, expectations, loyalty, lock-in,
grievance, the churn hazard, share of wallet and spending, the stage moves) — not the whole
model: no complaint money per segment, key-account coverage, acquisition or recording, which
a real kernel would also need. Prints what the issue's rule asks to measure first: the import
and the first call's compilation (wall and CPU seconds; on a busy machine CPU time is the
better guess of an idle machine's wall time), then the kernel's speed over 48 months (a 36-month
run and its 12 valuation months) at 10k, 100k and 1M customers beside the engine's on the same
machine. Results go to benchmarks/results/numba_probe.json.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
F32 = np.float32
MONTHS = 48  # 36 months and the 12 valuation months of a v2 run


def _kernel():
    from numba import njit

    @njit(inline="always")
    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))

    @njit(inline="always")
    def satisfaction(S, v, E, p):
        d = v - E
        target = p[0] + p[1] * v + p[2] * (d + p[3] * min(d, 0.0))
        return p[4] * S + (1 - p[4]) * min(max(target, 0.0), 1.0), d

    @njit(cache=False)
    def month(S, L, E, C, G, sow, stage, tenure, dwell, spend_mean, fit, wallet, sow0, theta,
              beta, u, seg, care, kam, stage_h, log_ten, m_stage, p, out_h, out_spend):  # fmt: skip
        for i in range(S.shape[0]):
            st = stage[i]
            if st >= 4:
                out_h[i] = 0.0
                out_spend[i] = 0.0
                continue
            r_care = beta[0, i] * care[seg[i]]
            p_fail = p[10] * (1 - p[11] * r_care)
            fail = u[0, i] < p_fail
            v = p[12] + fit[i] + (u[1, i] - 0.5) * p[13] + p[14] * r_care
            if fail:
                v -= p[15]
            s, d = satisfaction(S[i], v, E[i], p)
            if fail:
                s *= p[16] if u[0, i] / p_fail < 0.5 else p[17]
            S[i] = s
            E[i] += (p[18] if d > 0 else p[19]) * d
            L[i] += p[20] * (sigmoid(p[21] * (s - p[22])) - L[i])
            C[i] *= 1 - p[23]
            G[i] = G[i] * p[24] + (1.0 if fail else 0.0)
            logit = theta[i] - p[5] * (L[i] - 0.5) - p[6] * (s - 0.6) + p[7] * G[i] - p[8] * C[i]
            logit += -p[9] * beta[4, i] * kam[seg[i]] + stage_h[st] - log_ten[min(tenure[i], 99)]
            h = sigmoid(logit)
            out_h[i] = h
            target = min(max(sow0[i] + p[25] * (L[i] - 0.5), 0.02), 1.0)
            sow[i] += p[26] * (target - sow[i])
            e = wallet[i] * sow[i] * m_stage[st]
            out_spend[i] = e
            spend_mean[i] += (2 / 7) * (e - spend_mean[i])
            new = st
            if dwell[i] >= 2:
                if st == 0 and tenure[i] >= 2:
                    new = 1
                elif st == 1 and L[i] > p[27] and s > p[28]:
                    new = 2
                elif (st == 1 or st == 2) and (
                    s < p[29] or L[i] < p[30] or e < p[31] * spend_mean[i]
                ):
                    new = 3
                elif st == 3 and s > p[32] and L[i] > p[33]:
                    new = 1
            if u[2, i] < h:
                new = 4
            tenure[i] += 1
            dwell[i] = 0 if new != st else dwell[i] + 1
            stage[i] = new

    return month


def _arrays(n: int) -> list:
    r = np.random.default_rng(1)

    def f():
        return r.random(n).astype(F32)

    return [
        *(f() for _ in range(6)),
        np.zeros(n, np.int8),
        np.zeros(n, np.int16),
        np.zeros(n, np.int16),
        f(),
        f(),
        f(),
        f(),
        (f() - 3).astype(F32),
        r.random((6, n)).astype(F32),
        r.random((4, n)).astype(F32),
        r.integers(0, 3, n).astype(np.intp),
        np.array([0.3, 0.2, 0.1], F32),
        np.array([0.1, 0.0, 0.0], F32),
        np.array([0.1, 0, 0, 0.2, 0, 0], F32),
        (0.1 * np.log1p(np.arange(100))).astype(F32),
        np.array([0.5, 1, 1, 1, 0, 0], F32),
        r.random(40).astype(F32),
        np.zeros(n, F32),
        np.zeros(n, F32),
    ]


def main() -> int:
    from crmsim.bench import machine
    from crmsim.cases import load_case
    from crmsim.model.run import simulate
    from crmsim.population import generate

    c0, t0 = time.process_time(), time.perf_counter()
    try:
        month = _kernel()
    except ImportError:
        print("numba is not installed: pip install 'numba>=0.68,<0.69'", file=sys.stderr)
        return 1
    out = {"machine": machine(), "import_s": time.perf_counter() - t0}
    out["import_cpu_s"] = time.process_time() - c0
    args = _arrays(1000)
    c0, t0 = time.process_time(), time.perf_counter()
    month(*args)
    out["compile_s"], out["compile_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"import numba {out['import_s']:.2f} s (CPU {out['import_cpu_s']:.2f} s); "
        f"compile {out['compile_s']:.2f} s (CPU {out['compile_cpu_s']:.2f} s)"
    )
    case = load_case("telecom")
    for n in (10_000, 100_000, 1_000_000):
        args = _arrays(n)
        pop = generate(case, n, seed=1)
        simulate(pop, case, case.status_quo, 36, 1)
        kernel = engine = float("inf")
        for _ in range(3):  # taking turns, so a busy spell of the machine hits both
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(MONTHS):
                month(*args)
            kernel = min(kernel, time.perf_counter() - t0)
            gc.collect()
            t0 = time.perf_counter()
            simulate(pop, case, case.status_quo, 36, 1)
            engine = min(engine, time.perf_counter() - t0)
        out[str(n)] = {"kernel_s": kernel, "engine_s": engine}
        per = {k: v / n / 36 * 1e9 for k, v in (("kernel", kernel), ("engine", engine))}
        print(
            f"{n:>9,}: kernel {kernel:.3f} s ({per['kernel']:.0f} ns per customer-month of a"
            f" 36-month run), engine {engine:.3f} s ({per['engine']:.0f} ns)"
        )
        del pop, args
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "numba_probe.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
