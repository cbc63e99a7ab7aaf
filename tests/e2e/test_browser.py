"""Real-browser test: a Streamlit server, Debian's Chromium driven by Playwright.

Opens every page in both languages, runs a simulation and a comparison, waits for the charts
to paint and checks no exception element appears. Screenshots go to ``artifacts/``. Under CI
(CI=true) a missing browser is a failure; elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from benchmarks._server import CHROMIUM_ARGS, DONE, app_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
pytestmark = pytest.mark.e2e
# every page of the app, by its address ("" is the home page)
PAGES = (
    "",
    "customers",
    "segments",
    "plan",
    "simulate",
    "compare",
    "real_data",
    "learn",
    "glossary",
    "classroom",
)


def _browser_or_skip() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        chromium = None
    if chromium is None:
        reason = "Chromium or Playwright is not installed (`.ci/run` installs both)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return chromium


@pytest.fixture(scope="module")
def server():
    chromium = _browser_or_skip()
    with app_server() as (port, _process):
        yield f"http://127.0.0.1:{port}", chromium


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(DONE, state="attached", timeout=90_000)


def _click_and_wait(page, label: str) -> None:
    page.get_by_role("button").filter(has_text=label).first.click()
    page.wait_for_timeout(500)
    page.wait_for_selector(DONE, state="attached", timeout=180_000)
    page.wait_for_selector(".main-svg", timeout=60_000)
    page.wait_for_timeout(1500)  # Plotly paints after the script run ends


def test_customer_files_are_written_when_the_buttons_are_clicked(server):
    """The Customers page writes its CSV and workbook on the click (deferred), not on every
    rerun: both arrive whole, the CSV with the BOM Excel needs for Chinese."""
    from playwright.sync_api import sync_playwright

    url, chromium = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1400}, accept_downloads=True)
        _open(page, f"{url}/customers?lang=zh")
        files = {}
        for label in ("下载 CSV", "下载 Excel"):
            with page.expect_download(timeout=60_000) as info:
                page.get_by_role("button").filter(has_text=label).first.click()
            files[label] = Path(info.value.path()).read_bytes()
        browser.close()
    csv = files["下载 CSV"]
    assert csv.startswith("\ufeff".encode()) and csv.count(b"\n") == 10_001  # header + 10k
    assert csv.split(b"\n")[0].startswith("\ufeffcustomer_id,".encode())
    assert files["下载 Excel"][:2] == b"PK" and len(files["下载 Excel"]) > 100_000


def test_scatter_axes_switch_in_the_browser_and_a_selection_lists_customers(server):
    """A new axis from the chart's menu redraws the points without a rerun; a new method
    updates the same mounted chart (the same element in the page, drawn again in place) with
    the new segments; a box selection then lists the customers inside it and leaves the axes
    as the student set them."""
    from playwright.sync_api import sync_playwright

    url, chromium = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        _open(page, f"{url}/segments?lang=en")
        scatter = page.locator("[data-testid='crmLiveChart']")
        scatter.locator(".main-svg").first.wait_for(timeout=60_000)
        scatter.scroll_into_view_if_needed()
        page.evaluate(
            """() => { window.__states = [];
            const el = document.querySelector("[data-testid='stApp']");
            new MutationObserver(() => window.__states.push(el.getAttribute(
                "data-test-script-state"))).observe(el, {attributes: true});
            document.querySelector(".crm-live-chart").__mark = "first"; }"""
        )
        legend = scatter.locator(".legendtext").all_text_contents()
        page.locator("[aria-label='Method']").click()
        page.get_by_role("option").filter(has_text="ABC").first.click()
        page.wait_for_timeout(800)
        page.wait_for_selector(DONE, state="attached", timeout=60_000)
        page.wait_for_timeout(1500)
        kept = page.evaluate(
            """() => { const all = document.querySelectorAll(".crm-live-chart");
            return [all[0].__mark, all[0].__crmDraws, all.length]; }"""
        )
        assert kept == ["first", 2, 1]  # the same chart, drawn a second time in place
        assert scatter.locator(".legendtext").all_text_contents() != legend  # the new segments
        page.evaluate("window.__states = []")
        scatter.locator(".updatemenu-header").first.click()
        scatter.locator(".updatemenu-dropdown-button").nth(1).click()  # frequency
        page.wait_for_timeout(1500)
        assert scatter.locator(".xtitle").text_content() == "Frequency (last 12 months)"
        assert "running" not in page.evaluate("window.__states")  # the browser alone
        box = scatter.locator(".nsewdrag").first.bounding_box()
        page.mouse.move(box["x"] + 5, box["y"] + 5)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] - 5, steps=8)
        page.mouse.up()
        page.wait_for_timeout(800)
        page.wait_for_selector(DONE, state="attached", timeout=60_000)
        page.wait_for_timeout(1500)
        listed = page.get_by_text("customers selected")
        assert listed.count() == 1, page.locator("[data-testid='stMarkdown']").all_inner_texts()
        shown = int(listed.inner_text().split()[0].replace(",", ""))
        assert shown > 3_000  # every customer inside, not only the 3,000 points drawn
        assert scatter.locator(".xtitle").text_content() == "Frequency (last 12 months)"
        page.screenshot(path=str(ARTIFACTS / "segments_selection_en.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0
        browser.close()


@pytest.mark.parametrize(
    ("lang", "run_sim", "run_cmp"),
    [("zh", "开始模拟", "开始比较"), ("en", "Run the simulation", "Run the comparison")],
)
def test_every_page_in_a_real_browser(server, lang, run_sim, run_cmp):
    from playwright.sync_api import sync_playwright

    url, chromium = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        for path in PAGES:
            _open(page, f"{url}/{path}?lang={lang}")
            if path == "simulate":
                _click_and_wait(page, run_sim)
            elif path == "compare":
                _click_and_wait(page, run_cmp)
            elif path == "segments":
                page.wait_for_selector(".main-svg", timeout=60_000)
            page.wait_for_timeout(800)  # widgets finish mounting after the run ends
            page.screenshot(path=str(ARTIFACTS / f"{path or 'home'}_{lang}.png"), full_page=True)
            assert page.locator("[data-testid='stException']").count() == 0, path
            if path in ("simulate", "compare"):
                assert page.locator(".main-svg").count() >= 2, path
        text = page.locator("[data-testid='stSidebar']").inner_text()
        assert ("模拟" in text) if lang == "zh" else ("Simulate" in text)
        browser.close()


@pytest.mark.parametrize(
    ("lang", "own_case", "nav_simulate", "run_sim", "event"),
    [
        ("zh", "教师：使用自己的案例文件", "模拟", "开始模拟", "竞争对手降价"),
        (
            "en",
            "Instructors: use your own case file",
            "Simulate",
            "Run the simulation",
            "A rival cuts prices",
        ),
    ],
)
def test_instructor_uploads_a_case_and_its_event_shows_on_the_charts(
    server, lang, own_case, nav_simulate, run_sim, event
):
    from playwright.sync_api import sync_playwright

    from crmsim.cases import CASES_DIR

    url, chromium = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        _open(page, f"{url}/?lang={lang}")
        page.get_by_text(own_case).click()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            str(CASES_DIR / "_template.toml")
        )
        page.wait_for_timeout(800)
        page.wait_for_selector(DONE, state="attached", timeout=90_000)
        page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=30_000)
        assert page.get_by_role("heading", name="我的案例" if lang == "zh" else "My case").count()
        page.screenshot(path=str(ARTIFACTS / f"home_upload_{lang}.png"), full_page=True)
        # in-app navigation keeps the session (and so the uploaded case)
        page.locator("[data-testid='stSidebar'] a").filter(has_text=nav_simulate).first.click()
        page.wait_for_timeout(800)
        page.wait_for_selector(DONE, state="attached", timeout=90_000)
        _click_and_wait(page, run_sim)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator(".main-svg").filter(has_text=event).count() >= 1
        page.screenshot(path=str(ARTIFACTS / f"simulate_uploaded_case_{lang}.png"), full_page=True)
        browser.close()


def _settle(page, ms: int = 800) -> None:
    page.wait_for_timeout(ms)
    page.wait_for_selector(DONE, state="attached", timeout=120_000)
    page.wait_for_timeout(600)


def test_a_reload_mid_workflow_returns_to_the_same_screen(server):
    """A teacher picks a courseware case, a segmentation, runs a plan and opens a tab; a reload
    (a new session: only the address is left) shows the same case, size, plan and tab."""
    from playwright.sync_api import sync_playwright

    url, chromium = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        _open(page, f"{url}/?lang=zh")
        page.locator("[data-testid='stSelectbox']").first.click()
        page.get_by_role("option").filter(has_text="Y 公司").first.click()
        _settle(page)
        size = page.locator("[data-testid='stNumberInput'] input").first
        assert size.input_value() == "3000"  # the case's own size
        page.locator("[data-testid='stSidebar'] a").filter(has_text="客户细分").first.click()
        _settle(page, 1500)
        page.locator("[data-testid='stSelectbox']").first.click()
        page.get_by_role("option").filter(has_text="ABC").first.click()
        _settle(page)
        page.locator("[data-testid='stSidebar'] a").filter(has_text="模拟").first.click()
        _settle(page, 1500)
        page.get_by_role("button").filter(has_text="开始模拟").first.click()
        _settle(page, 1500)
        page.get_by_role("tab").filter(has_text="投诉").first.click()
        _settle(page, 1500)
        before = page.locator("[data-testid='stMetricValue']").all_inner_texts()
        assert len(before) == 6
        page.reload()
        _settle(page, 3000)
        caption = page.locator("[data-testid='stCaptionContainer']").first.inner_text()
        assert "Y 公司" in caption and "3,000" in caption
        assert page.locator("[data-testid='stMetricValue']").all_inner_texts() == before
        assert page.get_by_role("tab", selected=True).inner_text() == "投诉"
        assert page.locator(".main-svg").count() >= 1
        page.locator("[data-testid='stSidebar'] a").filter(has_text="客户细分").first.click()
        _settle(page, 1500)
        method = page.locator("[data-testid='stSelectbox'] input").first.input_value()
        assert "ABC" in method
        page.screenshot(path=str(ARTIFACTS / "reload_segments_zh.png"), full_page=True)
        assert page.locator("[data-testid='stException']").count() == 0
        browser.close()


# Latin words a Chinese page may show: the course's own abbreviations, file kinds and units,
# model names, the sample data set's name, and the name of the other language.
LATIN_ALLOWED = {
    *("RFM", "ABC", "CLV", "BG/NBD", "Gamma-Gamma", "MAN", "CDNOW", "SaaS", "IT", "PBKDF2"),
    *("CSV", "TXT", "TOML", "JSON", "Excel", "PNG", "UTF-8", "GBK", "GB18030", "KB", "MB"),
    *("English", "Plotly.js"),
}
TEXTS = r"""() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode, el = n.parentElement;
    if (!el || el.closest("script,style,[data-testid='stIconMaterial'],.material-symbols-rounded"))
      continue;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (cs.visibility === "hidden" || cs.display === "none" || (!r.width && !r.height)) continue;
    if (n.textContent.trim()) out.push(n.textContent.trim());
  }
  document.querySelectorAll("[placeholder],[title],[aria-label],[data-title]").forEach(e => {
    for (const a of ["placeholder", "title", "aria-label", "data-title"]) {
      const v = e.getAttribute(a); if (v && v.trim()) out.push(v.trim());
    }
  });
  return out;
}"""


def _latin_only(texts: list[str], page: str) -> list[str]:
    import re

    bad = []
    for text in texts:
        if re.search(r"[\u4e00-\u9fff]", text):
            continue
        if page == "glossary" and text.startswith("· "):  # the English name beside each term
            continue
        text = re.sub(r"%[A-Za-z]", "", text)  # a date format's codes (%d/%m/%Y) are not words
        words = re.findall(r"[A-Za-z][A-Za-z0-9/.\-]*", text)
        if any(w not in LATIN_ALLOWED and len(w) > 1 for w in words):  # one letter: a symbol
            bad.append(text)
    return bad


def test_a_chinese_page_shows_no_english(server):
    """Every page in Chinese, Streamlit's and Plotly's own texts included (text, placeholders,
    tooltips), after a simulation and a comparison have drawn their charts."""
    from playwright.sync_api import sync_playwright

    url, chromium = server
    found = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1400})
        for path in PAGES:
            _open(page, f"{url}/{path}?lang=zh")
            if path in ("simulate", "compare"):
                _click_and_wait(page, "开始模拟" if path == "simulate" else "开始比较")
            page.wait_for_timeout(1500)
            bad = _latin_only(page.evaluate(TEXTS), path)
            if path == "simulate":  # every tab of the dashboards, not only the first
                for tab in page.get_by_role("tab").all()[1:]:
                    tab.click()
                    _settle(page, 1500)
                    bad += _latin_only(page.evaluate(TEXTS), path)
            if path == "learn":  # an open select box and what it tells screen readers
                page.locator("[data-testid='stSelectbox']").first.click()
                page.wait_for_timeout(800)
                bad += _latin_only(page.evaluate(TEXTS), path)
                page.keyboard.press("Escape")
            if bad:
                found[path or "home"] = bad
        browser.close()
    assert not found, found


def test_every_page_at_phone_width(server):
    """At 390 px no page is wider than the screen, the plan grid says it scrolls, and the
    scatter's axis menus do not overlap; screenshots in both languages go to artifacts/."""
    from playwright.sync_api import sync_playwright

    url, chromium = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 2400}, is_mobile=True)
        for lang in ("zh", "en"):
            for path in PAGES:
                _open(page, f"{url}/{path}?lang={lang}")
                if path == "simulate":
                    _click_and_wait(page, "开始模拟" if lang == "zh" else "Run the simulation")
                page.wait_for_timeout(1500)
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= 392, (path, lang, wide)
                assert page.locator("[data-testid='stException']").count() == 0, path
                if path == "plan":
                    assert page.locator(".crm-scroll-hint").is_visible()
                if path == "segments":
                    page.wait_for_selector(".updatemenu-header", timeout=60_000)
                    a, b = (h.bounding_box() for h in page.locator(".updatemenu-header").all()[:2])
                    apart = a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1
                    assert apart or a["x"] + a["width"] <= b["x"], (a, b)
                page.screenshot(
                    path=str(ARTIFACTS / f"phone_{path or 'home'}_{lang}.png"), full_page=True
                )
        browser.close()
