"""Classroom load (DESIGN §5): a class of bots on one app process, as a real class would be.

    python benchmarks/bench_classroom.py [--students 40] [--customers 5000] [--rounds 2]
                                         [--open-after-reveal 60] [--postgres URL]
                                         [--processes 2] [--round-seconds 20]

Starts the app on a fresh classroom store (SQLite in WAL mode, or PostgreSQL; with
``--processes N``, N app processes behind Debian's nginx with sticky sessions, sharing the
PostgreSQL database, the teams spread evenly over them, as ``benchmarks/_proxy.py`` and the
README's deployment section set it up), then, through
the running app's websocket exactly as browser tabs do (``benchmarks/bots.py``), an instructor
opens a room from the console and N teams join from the room's link. Measured:

- ``open``: every team's tab opened at once (the room's page with the team's seat), until all
  are drawn;
- ``submit``: each round lasts ``--round-seconds``: over it every team, at a moment of its own,
  opens its Service plan page, makes a plan no other team has (its key accounts' care) and
  comes back; then every team clicks Submit within the round's last 2 s, each click's time
  until the page says saved (every round), and whether every plan is in the store;
- ``reveal``: from the instructor's click to every team's tab showing its results, pushed to
  the open tabs (no reload), and the app processes' CPU seconds meanwhile (their warming
  workers' included);
- ``open_after_reveal``: after round 1's reveal every team's tab is closed and
  ``--open-after-reveal`` tabs (default 60: a class of 60 students in the teams, the first
  teams on two devices, each opening its team's link) open at once (the page with results,
  charts and leaderboard), until all are drawn; they all stay open for the next rounds
  (each team submits from its first tab; a reveal is timed to every open tab);
- the server's memory, and the SQLite store's journal mode.

The figures the issue's targets name are printed last, one a line, with the load average.

"Drawn" is the script run's end as the tab receives it (no browser paints here). Not part of
the test run; results go to benchmarks/results/classroom.json and the README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import _proxy  # noqa: E402
from benchmarks._server import app_server  # noqa: E402
from benchmarks.bots import Tab  # noqa: E402
from benchmarks.class_bots import Report, open_console  # noqa: E402
from crmsim.i18n import t  # noqa: E402


def _memory_mb(pid: int) -> dict[str, float]:
    """Resident and peak resident memory of a process (Linux /proc)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return {
        "rss_mb": round(out.get("VmRSS", 0.0), 1),
        "peak_rss_mb": round(out.get("VmHWM", 0.0), 1),
    }


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process and its live children (the warming worker)
    have used so far (Linux /proc)."""
    total = 0.0
    for one in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found


def _spread(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        "p50_s": round(statistics.median(ordered), 2),
        "p95_s": round(p95, 2),
        "max_s": round(ordered[-1], 2),
    }


Route = tuple[str, dict]  # a websocket base and the headers its browser sends (sticky cookie)


async def _all_open(routes: list[Route], queries: list[str]) -> tuple[float, list[Tab]]:
    """Every tab opened at the same moment; seconds until the last is drawn."""
    start = time.perf_counter()
    tabs = await asyncio.gather(
        *(Tab.open(url, "classroom", q, h) for (url, h), q in zip(routes, queries, strict=True))
    )
    return time.perf_counter() - start, list(tabs)


def _care(team: int, rnd: int) -> float:
    """Team ``team``'s care for its key accounts in round ``rnd``: a plan of its own (the
    status quo's 8,000 less a little), within the budget."""
    return 8000.0 - 50.0 * team - 20.0 * rnd


async def _edit_all(tabs: list[Tab], lang: str, rnd: int, seconds: float) -> None:
    """Over the round's first ``seconds``, each team at a moment of its own opens its Service
    plan page, gives its key accounts a care budget no other team has and comes back: forty
    plans to play, as a class hands in (identical plans would be played once), and tabs drawn
    at moments of their own, as a class's are once a round has run a while."""

    async def one(i: int, tab: Tab) -> None:
        await asyncio.sleep(random.uniform(0, seconds))
        await tab.go("plan")
        grid = next((k for k in tab.widget_keys() if k.startswith("plan_grid_")), None)
        if grid is None:
            raise RuntimeError(f"no plan grid on the plan page:\n{tab.text()[-400:]}")
        await tab.edit_grid(grid, {0: {t("lever.care", lang): _care(i, rnd)}})
        await tab.go("classroom")

    await asyncio.gather(*(one(i, tab) for i, tab in enumerate(tabs)))


async def _submit_all(tabs: list[Tab], lang: str, window: float = 2.0) -> list[float]:
    """Every team clicks Submit at a random moment within ``window`` seconds."""

    async def one(tab: Tab) -> float:
        await tab.wait_for(lambda tb: tb.has("room_submit_room"), 60)
        await asyncio.sleep(random.uniform(0, window))
        took = await tab.click("room_submit_room")
        if t("room.team.not_saved", lang) in tab.text():
            raise RuntimeError(f"not saved:\n{tab.text()[-400:]}")
        return took

    return list(await asyncio.gather(*(one(tab) for tab in tabs)))


async def _reveal(
    console: Tab, tabs: list[Tab], lang: str, rnd: int, server_cpu: Callable[[], float]
) -> tuple[list[float], float]:
    """The instructor's click, then each open tab's time until its results are on screen;
    and the CPU seconds the app's processes used meanwhile (a figure a shared machine's
    load changes less than the wall-clock times)."""
    heading = t("room.team.results_of", lang, round=f"{t('room.round', lang)} {rnd}")
    await console.wait_for(lambda tb: tb.has("room_do_reveal"), 30)
    start, cpu = time.perf_counter(), server_cpu()
    click = asyncio.create_task(console.click("room_do_reveal"))

    async def seen(tab: Tab) -> float:
        await tab.wait_for(lambda tb: heading in tb.text(), 120)
        return time.perf_counter() - start

    times = await asyncio.gather(*(seen(tab) for tab in tabs))
    cpu = server_cpu() - cpu
    await click
    if console.has("room_do_reveal_anyway"):  # pragma: no cover - every team submitted
        await console.click("room_do_reveal_anyway")
    return list(times), cpu


async def _game(routes: list[Route], args, out: dict, server_cpu: Callable[[], float]) -> None:
    """The console on the first route; team i on route i."""
    lang = "zh"
    report = Report()
    console = await open_console(routes[0], lang, args.rounds, 6, report, args.customers)
    out["room"], out["passcode"] = report.code, report.passcode
    join_start = time.perf_counter()

    async def join(i: int) -> Tab:
        url, headers = routes[i]
        tab = await Tab.open(url, "classroom", f"lang={lang}&room={report.code}", headers)
        tab.put("room_join_name", f"第{i + 1}组")
        await tab.click(label=t("room.join", lang))
        return tab

    tabs = list(await asyncio.gather(*(join(i) for i in range(args.students))))
    out["join_all_s"] = round(time.perf_counter() - join_start, 2)
    queries = [tab.query for tab in tabs]  # each team's seat, as its address holds it
    for tab in tabs:
        await tab.close()
    total, tabs = await _all_open(routes, queries)
    out["open"] = {"all_drawn_s": round(total, 2), **_spread([tb.opened_in for tb in tabs])}
    watching: list[Tab] = list(tabs)  # every open tab (a team's second device too)
    for rnd in range(1, args.rounds + 1):
        round_start = time.perf_counter()
        await _edit_all(tabs, lang, rnd, max(0.0, args.round_seconds - 3.0))
        await asyncio.sleep(
            max(0.0, args.round_seconds - 2.0 - (time.perf_counter() - round_start))
        )
        submits = await _submit_all(tabs, lang)
        out.setdefault("submit", {})[f"round_{rnd}"] = {"n": len(submits), **_spread(submits)}
        reveal, cpu = await _reveal(console, watching, lang, rnd, server_cpu)
        out.setdefault("reveal", {})[f"round_{rnd}"] = {
            "tabs": len(watching),
            "server_cpu_s": round(cpu, 2),
            "every_tab_s": round(max(reveal), 2),
            "first_tab_s": round(min(reveal), 2),  # ~ the reveal itself, then the polls
            "p50_s": round(statistics.median(reveal), 2),
        }
        if rnd == 1:  # after the first reveal, the whole class opens the page at once
            for tab in watching:
                await tab.close()
            n = args.open_after_reveal or len(tabs)
            seats = [queries[i % len(queries)] for i in range(n)]  # a team's link, any device
            total, watching = await _all_open([routes[i % len(routes)] for i in range(n)], seats)
            tabs = watching[: len(queries)]  # each team submits from its first tab
            opened = [tb.opened_in for tb in watching]
            out["open_after_reveal"] = {
                "tabs": n,
                "all_drawn_s": round(total, 2),
                **_spread(opened),
            }
        if rnd < args.rounds:
            await console.wait_for(lambda tb: tb.has("room_do_advance"), 30)
            await console.click("room_do_advance")
    for tab in [*watching, console]:
        await tab.close()


def main() -> int:
    from crmsim.bench import machine
    from crmsim.classroom import Classroom

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=40, help="teams, one tab each")
    p.add_argument("--customers", type=int, default=5000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--open-after-reveal",
        type=int,
        default=60,
        help="tabs opening at once after round 1's reveal (teams' links, round robin)",
    )
    p.add_argument(
        "--round-seconds",
        type=float,
        default=20.0,
        help="a round's length: teams edit their plans over it and submit in its last 2 s",
    )
    p.add_argument("--postgres", default="", help="a PostgreSQL URL instead of SQLite")
    p.add_argument("--processes", type=int, default=1, help="app processes behind nginx")
    args = p.parse_args()
    if args.processes > 1 and not args.postgres:
        p.error("--processes above 1 shares the room through PostgreSQL: give --postgres URL")
    folder = Path(tempfile.mkdtemp(prefix="crmlab_load_"))
    url = args.postgres or f"sqlite:///{folder / 'classroom.db'}"
    if args.postgres:
        import sqlalchemy as sa

        from crmsim.classroom import metadata

        engine = sa.create_engine(url)
        with engine.begin() as c:
            metadata.drop_all(c)
        engine.dispose()
    out: dict = {
        "machine": machine(),
        "students": args.students,
        "customers": args.customers,
        "store": "postgresql" if args.postgres else "sqlite",
        "processes": args.processes,
        "round_seconds": args.round_seconds,
        "load_average_1min_at_start": round(os.getloadavg()[0], 1),  # a shared machine's load
    }
    env = {"DATABASE_URL": url}
    if args.processes > 1:  # the same cookie secret on every process, the proxy trusted
        env |= {
            "CRMLAB_TRUSTED_PROXIES": "127.0.0.1",
            "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16),
        }
    with ExitStack() as stack:
        servers = [
            stack.enter_context(app_server(env, log=folder / f"server{i}.log"))
            for i in range(args.processes)
        ]
        if args.processes == 1:
            routes = [(f"ws://127.0.0.1:{servers[0][0]}", {})] * args.students
        else:
            front = stack.enter_context(_proxy.proxy([port for port, _ in servers]))
            cookies = _proxy.spread_cookies(front, args.students, args.processes)
            routes = [(f"ws://127.0.0.1:{front}", {"Cookie": f"crmlab_node={c}"}) for c in cookies]
        try:
            pids = [server.pid for _, server in servers]
            asyncio.run(_game(routes, args, out, lambda: sum(_cpu_s(pid) for pid in pids)))
        except TimeoutError as exc:  # keep what was measured, say where it stopped
            out["stopped"] = str(exc).splitlines()[0]
        out["load_average_15min_at_end"] = round(os.getloadavg()[2], 1)
        memory = [_memory_mb(server.pid) for _, server in servers]
        out["rss_mb"] = round(sum(m["rss_mb"] for m in memory), 1)  # all processes
        out["peak_rss_mb"] = max(m["peak_rss_mb"] for m in memory)  # the largest one
        workers = [_memory_mb(c) for _, server in servers for c in _children(server.pid)]
        out["workers_rss_mb"] = round(sum(m["rss_mb"] for m in workers), 1)  # warming workers
    store = Classroom(url)
    status = store.status(out["room"], out.pop("passcode"))
    every = bool(status["version"].notna().all()) and len(status) == args.students
    out["saved_every_round"] = every  # the last round's plan of every team is in the store
    if store.sqlite:
        with store.engine.connect() as c:
            out["sqlite_journal_mode"] = c.exec_driver_sql("PRAGMA journal_mode").scalar()
    store.close()
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    name = "classroom.json" if not args.postgres else "classroom_postgres.json"
    if args.processes > 1:
        name = f"classroom_postgres_{args.processes}_processes.json"
    (ROOT / "benchmarks" / "results" / name).write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    print(targets(out))
    return 0


def targets(out: dict) -> str:
    """The figures issue 15's targets name, one a line, against their targets."""
    lines = [
        f"{out['machine']}; {out['store']}, {out['processes']} process(es), "
        f"{out['students']} teams, {out['customers']:,} customers; load average "
        f"{out['load_average_1min_at_start']} (1 min, start) / "
        f"{out['load_average_15min_at_end']} (15 min, end)"
    ]
    found = out.get("open_after_reveal")
    if found:
        lines.append(
            f"{found['tabs']} tabs opening at once after a reveal, all drawn: "
            f"{found['all_drawn_s']} s (target <= 8 s)"
        )
    for rnd, sub in out.get("submit", {}).items():
        lines.append(
            f"{rnd}: {sub['n']} teams submitting within 2 s, p95 {sub['p95_s']} s, "
            f"max {sub['max_s']} s (target p95 <= 3 s, all saved)"
        )
    for rnd, rev in out.get("reveal", {}).items():
        lines.append(
            f"{rnd}: reveal of {out['students']} teams to every tab ({rev['tabs']} open): "
            f"{rev['every_tab_s']} s (target <= 5 s; server CPU meanwhile {rev['server_cpu_s']} s)"
        )
    lines.append(f"every plan saved: {out.get('saved_every_round')}")
    if "sqlite_journal_mode" in out:
        lines.append(f"SQLite journal mode: {out['sqlite_journal_mode']}")
    if "stopped" in out:
        lines.append(f"stopped: {out['stopped']}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
