"""App speed as a user feels it (DESIGN §5): a live server, Debian's Chromium via Playwright.

    python benchmarks/bench_app.py

Measures, on a freshly started server, each from the click (the DOM event) to two ends: the end
of the script run it caused as the page sees it (``*_s``), and the page settled (``*_settled_s``:
the last change to the page or the last busy stretch of the browser's main thread, charts
painted included):
- the first click on "run" (population + status quo + plan) and a click that needs one new
  10k × 36 simulation;
- page reruns that need no simulation, median of 7: the Plan page after one more unit of money
  (tables and totals), and the Segments page after a new method, four methods in turn
  (segmentation, profile, the pyramid or share chart, and the scatter's 3,000 WebGL points
  coloured anew in the chart already mounted, ``crmsim/ui/live_chart.py``; the RFM heatmap
  does not change and stays as drawn);
- a tab of the Simulate page's dashboards (a rerun drawing that tab's charts);
- the same select-box rerun on ``floor_app.py``, a bare Streamlit page holding only that
  scatter (the same figure, built by ``charts.scatter_customers``) drawn by ``st.plotly_chart``,
  which mounts a new chart for every new figure: what the scatter alone cost the Segments page
  before the live chart (and still costs where it falls back to ``st.plotly_chart``);
- a new axis from the Segments scatter's own menu (no rerun: to settled only);
- every page's rerun as the script's own time (Streamlit's AppTest, no browser), median of 5.
It ends by printing the three figures DESIGN §5 sets targets for, with the load average.
Not part of the test run; results go to benchmarks/results/app.json and the README.

    python benchmarks/bench_app.py --against ../other-checkout [--rounds 3]

times only the Segments page's new method, alternating between this checkout and another (a
``git worktree`` of origin/main, say) in one browser, round by round: on a shared machine the
ratio of the two holds when the absolute times do not; and each opening of the page, to its
three charts drawn (wall clock from Python, the first opening loading the scripts). Results:
app_segments_ab.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._server import CHROMIUM_ARGS, DONE, app_server  # noqa: E402

WATCH = """() => {
  window.__runs = [];
  window.__clicks = [];
  window.__changes = [];
  window.__busy = [];
  document.addEventListener("click", () => window.__clicks.push(performance.now()), true);
  const el = document.querySelector("[data-testid='stApp']");
  new MutationObserver(() => window.__runs.push(
      [performance.now(), el.getAttribute("data-test-script-state")]))
    .observe(el, {attributes: true, attributeFilter: ["data-test-script-state"]});
  new MutationObserver(() => window.__changes.push(performance.now()))
    .observe(el, {subtree: true, childList: true, attributes: true, characterData: true});
  new PerformanceObserver(list => list.getEntries().forEach(
      e => window.__busy.push(e.startTime + e.duration))).observe({type: "longtask"});
}"""
FINISHED = "t0 => window.__runs.some(r => r[0] > t0 && r[1] === 'notRunning')"
ENDS = """t => {
  const click = window.__clicks.filter(c => c > t)[0] ?? t;
  const done = window.__runs.find(r => r[0] > click && r[1] === 'notRunning')?.[0] ?? null;
  const later = [...window.__changes, ...window.__busy].filter(x => x > click);
  return [done && (done - click) / 1000, (Math.max(click, ...later) - click) / 1000];
}"""
QUIET_MS = 3000  # a page still painting changes within this; then nothing more comes


def _timed(page, action, timeout_ms: int = 180_000) -> tuple[float, float]:
    """Seconds from the click (the DOM event, so Playwright's own checks before clicking are
    not counted) to the end of the script run it caused, and to the page settled. Timed in the
    page, so a run that ends before Python looks is still measured."""
    t_call = page.evaluate("performance.now()")
    action()
    page.wait_for_function(FINISHED, arg=t_call, timeout=timeout_ms)
    page.wait_for_timeout(QUIET_MS)
    done, settled = page.evaluate(ENDS, t_call)
    return round(done, 3), round(settled, 3)


def _open(page, url: str, charts: int = 0) -> None:
    """Open a page and wait for its script run to end, and for ``charts`` Plotly charts drawn."""
    page.goto(url)
    page.wait_for_selector(DONE, state="attached", timeout=120_000)
    if charts:
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot').length >= {charts}", timeout=120_000
        )
    page.wait_for_timeout(QUIET_MS)
    page.evaluate(WATCH)


def _choices(page, out: dict, name: str, label: str) -> None:
    """Seven new values of a select box: median and every run, to the script's end and to
    settled. A click that starts no run within a minute is counted in ``<name>_missed`` and
    left out (seen on main before the live chart: the list moved under the pointer and the
    click picked the value already shown, so there was nothing to rerun)."""
    from playwright.sync_api import TimeoutError as NoRun

    box = page.locator(f"[aria-label='{label}']")
    runs, missed = [], 0
    for i in range(7):
        box.scroll_into_view_if_needed()
        box.click()
        option = page.get_by_role("option").nth((i % 4) + 1)
        option.wait_for(state="visible", timeout=10_000)
        try:
            runs.append(_timed(page, option.click, timeout_ms=60_000))
        except NoRun:
            missed += 1
    _put(out, name, runs)
    out[f"{name}_missed"] = missed


def _axis_switches(page, out: dict) -> None:
    """Seven new horizontal axes from the scatter's own menu: no rerun, so only settled."""
    scatter = page.locator("[data-testid='crmLiveChart']")  # crmsim/ui/live_chart.py
    scatter.scroll_into_view_if_needed()
    settled = []
    for i in range(7):
        scatter.locator(".updatemenu-header").first.click()
        page.wait_for_timeout(300)
        t_call = page.evaluate("performance.now()")
        scatter.locator(".updatemenu-dropdown-button").nth((i % 4) + 1).click()
        page.wait_for_timeout(QUIET_MS)
        settled.append(round(page.evaluate(ENDS, t_call)[1], 3))
    out["scatter_axis_settled_median_s"] = statistics.median(settled)
    out["scatter_axis_settled_all_s"] = settled


def _put(out: dict, name: str, runs: list[tuple[float, float]]) -> None:
    out[f"{name}_median_s"] = round(statistics.median(r[0] for r in runs), 3)
    out[f"{name}_settled_median_s"] = round(statistics.median(r[1] for r in runs), 3)
    out[f"{name}_all_s"] = [list(r) for r in runs]


def _script_reruns() -> dict[str, float]:
    """Each page rerun with nothing new to compute, as the script's own time (AppTest): what the
    server spends per rerun, whatever the browser. The Simulate page holds one 10k × 36 run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = "zh"
    at.run()
    out = {}
    for page in ("home", "customers", "segments", "plan", "simulate", "compare", "learn"):
        if page != "home":
            at.switch_page(f"pages/{page}.py").run()
        if page == "simulate":
            at.button(key="sim_run").click().run()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        assert not at.exception, page
        out[page] = round(statistics.median(times), 3)
    at.switch_page("pages/segments.py").run()
    times = []
    for method in ("abc", "clv", "rfm", "pyramid", "abc"):
        t0 = time.perf_counter()
        at.selectbox(key="seg_method").set_value(method).run()
        times.append(time.perf_counter() - t0)
    out["segments_new_method"] = round(statistics.median(times), 3)
    return out


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _targets(out: dict) -> str:
    """The figures DESIGN §5 sets targets for, one line each, with the machine's load."""
    scripts = out["script_rerun_s"]
    slowest = max(scripts, key=scripts.get)
    lines = [
        f"load average (1, 5, 15 min) before {out['load_before']}, after {out['load_after']}",
        "a rerun that redraws charts (Segments, a new method), settled, median of 7: "
        f"{out['rerun_segments_method_settled_median_s']:.2f} s (target <= 1.0 s)",
        "click to charts, one new 10k x 36 simulation, settled: "
        f"{out['click_to_charts_10k_36_settled_median_s']:.2f} s (target <= 1.5 s)",
        f"every page's script, slowest ({slowest}): {scripts[slowest]:.3f} s (target <= 0.3 s)",
    ]
    return "\n".join(lines)


def _segments_ab(other: Path, rounds: int) -> dict:
    """The Segments page's new method, this checkout and ``other`` in turn, ``rounds`` times."""
    from contextlib import ExitStack

    from playwright.sync_api import sync_playwright

    roots = {"this": ROOT, "other": other.resolve()}
    runs: dict[str, list[float]] = {name: [] for name in roots}
    opens: dict[str, list[float]] = {name: [] for name in roots}
    missed = dict.fromkeys(roots, 0)
    out: dict = {"other": str(roots["other"]), "load_before": _load()}
    with sync_playwright() as p, ExitStack() as stack:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        ports = {
            name: stack.enter_context(app_server(script=root / "app.py"))[0]
            for name, root in roots.items()
        }
        for _ in range(rounds):
            for name, port in ports.items():
                page = browser.new_page(viewport={"width": 1300, "height": 1000})
                t0 = time.perf_counter()
                _open(page, f"http://127.0.0.1:{port}/segments?lang=zh", charts=3)
                opens[name].append(round(time.perf_counter() - t0 - QUIET_MS / 1000, 3))
                got: dict = {}
                _choices(page, got, "m", "细分方法")
                runs[name] += [settled for _, settled in got["m_all_s"]]
                missed[name] += got["m_missed"]
                page.close()
        browser.close()
    out["load_after"] = _load()
    for name, settled in runs.items():
        out[f"{name}_missed"] = missed[name]
        out[f"{name}_settled_median_s"] = round(statistics.median(settled), 3)
        out[f"{name}_settled_all_s"] = settled
        out[f"{name}_open_to_charts_all_s"] = opens[name]  # the first loads plotly.js too
    out["ratio_this_to_other"] = round(
        out["this_settled_median_s"] / out["other_settled_median_s"], 3
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", type=Path, help="another checkout to alternate with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    if args.against:
        ab = _segments_ab(args.against, args.rounds)
        (ROOT / "benchmarks" / "results" / "app_segments_ab.json").write_text(
            json.dumps(ab, indent=2)
        )
        print(json.dumps(ab, indent=2))
        return 0

    from playwright.sync_api import sync_playwright

    from crmsim.bench import machine

    out: dict = {"machine": machine(), "load_before": _load()}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        with app_server() as (port, _server):
            url = f"http://127.0.0.1:{port}"
            _open(page, f"{url}/simulate?lang=zh")

            def run_button() -> None:
                page.get_by_role("button").filter(has_text="开始模拟").first.click()

            _put(out, "first_click", [_timed(page, run_button)])  # incl. the status quo
            page.get_by_role("combobox").first.click()
            page.get_by_role("option").nth(2).click()  # another preset: a new run to make
            # (the select box is bound to the address: its rerun comes as a new page, which the
            # watchers of the old one never see, so watch the new one)
            page.wait_for_timeout(QUIET_MS)
            page.wait_for_selector(DONE, state="attached", timeout=120_000)
            page.evaluate(WATCH)
            _put(out, "click_to_charts_10k_36", [_timed(page, run_button)])
            # A tab of the dashboards: a rerun that draws that tab's charts (only the open tab
            # is drawn), six tabs in turn, twice.
            runs = []
            for name in ("保留", "满意度与生命周期", "投诉", "单个客户", "收入与利润") * 2:
                tab = page.get_by_role("tab").filter(has_text=name).first
                if tab.count():
                    runs.append(_timed(page, tab.click))
            _put(out, "rerun_simulate_tab", runs)
            # The Segments page: a new scatter axis is the browser's alone; a new method reruns
            # the page (segmentation, profile, pyramid, heatmap) and redraws the scatter's
            # 3,000 points (a sample of the 10,000, stratified by segment).
            _open(page, f"{url}/segments?lang=zh")
            _axis_switches(page, out)
            _choices(page, out, "rerun_segments_method", "细分方法")
            # One more unit of acquisition money on the Plan page (budget check, cost table,
            # totals): no large chart to redraw.
            _open(page, f"{url}/plan?lang=zh")
            step_up = page.locator("[data-testid='stNumberInputStepUp']").first
            runs = []
            for _ in range(7):
                step_up.scroll_into_view_if_needed()
                runs.append(_timed(page, step_up.click))
            _put(out, "rerun_plan", runs)
        with app_server(script=ROOT / "benchmarks" / "floor_app.py") as (port, _server):
            _open(page, f"http://127.0.0.1:{port}/")
            _choices(page, out, "floor_scatter", "横轴")
        browser.close()
    out["script_rerun_s"] = _script_reruns()
    out["load_after"] = _load()
    (ROOT / "benchmarks" / "results" / "app.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    print(_targets(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
