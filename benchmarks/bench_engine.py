"""Engine, population and reference-ratio benchmark (DESIGN §5); not part of the test run.

    python benchmarks/bench_engine.py            # prints the README table
    python benchmarks/bench_engine.py --json out.json

Same measurements as ``python -m crmsim bench``; this script also saves the raw numbers to
``benchmarks/results/engine.json`` so a change can be compared with the last run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crmsim import bench  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--quick", action="store_true", help="small sizes only")
    args = p.parse_args()
    kwargs = (
        {"sizes": (2_000, 10_000), "reference_n": 300, "reference_months": 12, "repeats": 1}
        if args.quick
        else {}
    )
    result = bench.run(log=print, **kwargs)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    text = json.dumps(result, indent=2)
    (out / ("engine-quick.json" if args.quick else "engine.json")).write_text(text)
    if args.json:
        Path(args.json).write_text(text)
    print()
    print(f"Machine: {result['machine']}")
    print(bench.markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
