"""A million-row purchase log uploaded to the Real data page in a real browser (issue 18):
the time until the page has settled with its charts, and the server's peak resident memory.

    python benchmarks/bench_real_data_page.py [--rows 1000000]

Starts a server on a free port, drives Debian's Chromium (headless, software rendering) with
Playwright, picks "My file", uploads a log in the UCI Online Retail layout drawn by
``crmsim.purchases.synthetic`` and waits for the script to stop running and a Plotly chart to
paint. Not part of the test run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _server import CHROMIUM_ARGS, app_server  # noqa: E402

DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _rss_mb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) // 1024
    except (OSError, IndexError, ValueError):
        return 0


def main() -> int:
    from playwright.sync_api import sync_playwright

    from crmsim.purchases.synthetic import online_retail_log

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="crm_bench_page_") as tmp:
        path = Path(tmp) / f"log_{args.rows}.csv"
        log = online_retail_log(max(args.rows // 20, 100), seed=7, rows=args.rows)
        log.to_csv(path, index=False, lineterminator="\n")
        size = path.stat().st_size
        peak, stop = [0], threading.Event()
        with app_server() as (port, server), sync_playwright() as pw:

            def watch() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], _rss_mb(server.pid))
                    time.sleep(0.2)

            threading.Thread(target=watch, daemon=True).start()
            browser = pw.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/real_data?lang=en", timeout=120_000)
            page.wait_for_selector(DONE, state="attached", timeout=180_000)
            page.get_by_text("My file", exact=True).first.click()
            page.wait_for_selector("input[type=file]", state="attached", timeout=60_000)
            page.wait_for_selector(DONE, state="attached", timeout=180_000)
            before = _rss_mb(server.pid)
            start = time.perf_counter()
            page.locator("input[type=file]").set_input_files(str(path))
            # the example analysed on first load stays on the page until the new log is read:
            # wait for the new log's own note (its guest lines), then for the run to end
            page.get_by_text("have no customer id").first.wait_for(timeout=600_000)
            page.wait_for_selector(DONE, state="attached", timeout=600_000)
            page.wait_for_selector(".main-svg", state="attached", timeout=600_000)
            seconds = time.perf_counter() - start
            stop.set()
            browser.close()
    print(
        f"{args.rows:,} rows ({size / 2**20:.0f} MB): settled with charts in {seconds:.1f} s; "
        f"server resident memory {before} MB before, peak {peak[0]} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
