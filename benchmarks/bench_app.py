"""App speed as a user feels it (DESIGN §5): a live server, Debian's Chromium via Playwright.

    python benchmarks/bench_app.py [--customers 10000] [--months 36]

Measures, on a freshly started server: the first click on "run" (population + status quo +
plan), a click that needs one new 10k × 36 simulation (click → charts painted), page reruns
that need no simulation (the Plan page after one more unit of money; the Segments page's
scatter after a new axis, which redraws up to 10,000 WebGL points), median of 7, in the
browser from the click event, and the scatter rerun as the script's own time (AppTest).
Not part of the test run; results go to benchmarks/results/app.json and the README.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._server import app_server  # noqa: E402

DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


WATCH = """() => {
  window.__runs = [];
  window.__clicks = [];
  document.addEventListener("click", () => window.__clicks.push(performance.now()), true);
  const el = document.querySelector("[data-testid='stApp']");
  new MutationObserver(() => window.__runs.push(
      [performance.now(), el.getAttribute("data-test-script-state")]))
    .observe(el, {attributes: true, attributeFilter: ["data-test-script-state"]});
}"""
FINISHED = "t0 => window.__runs.some(r => r[0] > t0 && r[1] === 'notRunning')"
FINISHED_AT = "t0 => window.__runs.find(r => r[0] > t0 && r[1] === 'notRunning')[0]"


def _timed(page, action, charts: bool = False) -> float:
    """Seconds from the click (the DOM event, so Playwright's own checks before clicking are
    not counted) to the end of the script run it caused, then to painted charts. Timed in the
    page, so a run that ends before Python looks is still measured."""
    t_call = page.evaluate("performance.now()")
    action()
    page.wait_for_function(FINISHED, arg=t_call, timeout=180_000)
    t0 = page.evaluate("t => window.__clicks.filter(c => c > t)[0] ?? t", t_call)
    end = page.evaluate(FINISHED_AT, t0)
    if charts:
        page.wait_for_selector(".main-svg", timeout=60_000)
        end = max(end, page.evaluate("performance.now()"))
    return (end - t0) / 1000


def _script_rerun() -> float:
    """The same Segments rerun without a browser (Streamlit's AppTest): the script's own time."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = "zh"
    at.switch_page("pages/segments.py")
    at.run()
    times = []
    for axis in ("frequency", "monetary", "revenue_12m", "tenure_months", "recency") * 2:
        t0 = time.perf_counter()
        at.selectbox(key="seg_x").set_value(axis).run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    from playwright.sync_api import sync_playwright

    from crmsim.bench import machine

    out: dict = {"machine": machine()}
    with app_server() as (port, _server):
        url = f"http://127.0.0.1:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(f"{url}/simulate?lang=zh")
            page.wait_for_selector(DONE, state="attached", timeout=120_000)
            page.evaluate(WATCH)

            def run_button() -> None:
                page.get_by_role("button").filter(has_text="开始模拟").first.click()

            out["first_click_s"] = _timed(page, run_button, charts=True)  # incl. status quo
            page.get_by_role("combobox").first.click()
            _timed(page, lambda: page.get_by_role("option").nth(2).click())  # another preset
            out["click_to_charts_10k_36_s"] = _timed(page, run_button, charts=True)
            # A rerun that simulates nothing: the Segments page re-segments and redraws its
            # charts when the scatter's axis changes.
            page.goto(f"{url}/segments?lang=zh")
            page.wait_for_selector(DONE, state="attached", timeout=120_000)
            page.wait_for_selector(".main-svg", timeout=60_000)
            page.evaluate(WATCH)
            axis = page.locator("[aria-label='横轴']")
            times = []
            for i in range(7):
                axis.scroll_into_view_if_needed()
                axis.click()
                option = page.get_by_role("option").nth((i % 4) + 1)
                option.wait_for(state="visible", timeout=10_000)
                times.append(_timed(page, option.click))
            out["rerun_scatter_median_s"] = statistics.median(times)
            out["rerun_scatter_all_s"] = times
            # A rerun that simulates nothing and redraws no large chart: one more unit of
            # acquisition money on the Plan page (budget check, cost table, totals).
            page.goto(f"{url}/plan?lang=zh")
            page.wait_for_selector(DONE, state="attached", timeout=120_000)
            page.wait_for_timeout(1000)
            page.evaluate(WATCH)
            step_up = page.locator("[data-testid='stNumberInputStepUp']").first
            times = []
            for _ in range(7):
                step_up.scroll_into_view_if_needed()
                times.append(_timed(page, step_up.click))
            out["rerun_no_simulation_median_s"] = statistics.median(times)
            out["rerun_no_simulation_all_s"] = times
            browser.close()
    out["rerun_script_only_median_s"] = _script_rerun()
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "app.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
