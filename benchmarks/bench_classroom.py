"""Classroom load (DESIGN §5): 40 students open the classroom page at once on one server.

    python benchmarks/bench_classroom.py [--students 40] [--customers 5000]

Starts the app on a fresh SQLite classroom store, opens a room (telecom), joins the teams, then
opens one Streamlit session per team over the app's websocket exactly as a browser tab does
(connect, ask for a run of the classroom page with the team's room and token in the query
string, read messages until the script reports it finished), all at the same moment. Reports
the time until every session was drawn, p50/p95 per-session latency and the server's memory.
Not part of the test run; results go to benchmarks/results/classroom.json and the README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._server import app_server  # noqa: E402


def _memory_mb(pid: int) -> dict[str, float]:
    """Resident and peak resident memory of a process (Linux /proc)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return {"rss_mb": out.get("VmRSS", 0.0), "peak_rss_mb": out.get("VmHWM", 0.0)}


async def _session(port: int, query: str) -> float:
    """One browser tab: open the websocket, request the page run, wait until it finished."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.asyncio.client import connect

    start = time.perf_counter()
    async with connect(
        f"ws://127.0.0.1:{port}/_stcore/stream",
        subprotocols=["streamlit"],
        max_size=None,
        open_timeout=60,
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = "classroom"
        await ws.send(msg.SerializeToString())
        while True:
            raw = await asyncio.wait_for(ws.recv(), timeout=120)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            if fwd.WhichOneof("type") == "script_finished":
                return time.perf_counter() - start


async def _all(port: int, queries: list[str]) -> tuple[float, list[float]]:
    start = time.perf_counter()
    times = await asyncio.gather(*(_session(port, q) for q in queries))
    return time.perf_counter() - start, list(times)


def main() -> int:
    from crmsim.bench import machine
    from crmsim.cases import load_case
    from crmsim.classroom import Classroom

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=40)
    p.add_argument("--customers", type=int, default=5000)
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crmlab_load_"))
    url = f"sqlite:///{folder / 'classroom.db'}"
    store = Classroom(url)
    code, _ = store.create_room(load_case("telecom"), args.customers, 7, rounds=4, round_months=6)
    queries = []
    for i in range(args.students):
        _, token = store.join(code, f"Team {i + 1}", client=f"bench-{i}")
        queries.append(f"lang=zh&room={code}&team={token}")
    store.close()
    out: dict = {"machine": machine(), "students": args.students, "customers": args.customers}
    with app_server({"DATABASE_URL": url}) as (port, server):
        total, times = asyncio.run(_all(port, queries))
        out.update(
            {
                "all_drawn_s": total,
                "p50_s": statistics.median(times),
                "p95_s": sorted(times)[max(0, round(0.95 * len(times)) - 1)],
                "max_s": max(times),
                **_memory_mb(server.pid),
            }
        )
        # the same 40 again on a warm server (cases, population and pages loaded)
        total2, times2 = asyncio.run(_all(port, queries))
        out.update(
            {
                "warm_all_drawn_s": total2,
                "warm_p50_s": statistics.median(times2),
                "warm_p95_s": sorted(times2)[max(0, round(0.95 * len(times2)) - 1)],
            }
        )
        out.update({f"after_{k}": v for k, v in _memory_mb(server.pid).items()})
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "classroom.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
