"""The Streamlit home page in both languages (AppTest, no browser)."""

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from crmsim.cases import load_case
from crmsim.i18n import t
from crmsim.money import currency_name
from crmsim.plans import budget_use, segment_spend
from crmsim.population import generate
from crmsim.segmentation import segment_for_case
from crmsim.ui import case_store, formatting, live_chart
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    yield


def _page(page: str, lang: str, customers: int = 1500, seed: int = 5) -> AppTest:
    """A page as a browser reaches it: through the entry script, with the home page's choices."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = lang
    at.session_state["setup"] = {"case_id": "telecom", "customers": customers, "seed": seed}
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


@pytest.mark.parametrize(("lang", "title"), [("zh", "客户关系管理实验室"), ("en", "CRM Lab")])
def test_home_renders_in_each_language(lang, title):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    assert at.title[0].value == title
    assert len(at.metric) == 3
    assert at.selectbox(key="case_id").value == "telecom"


def test_switching_case_and_language():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    at.selectbox(key="case_id").select("b2b_it").run()
    assert not at.exception
    assert any("IT solutions" in s.value for s in at.subheader)
    at.radio(key="lang_radio").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "客户关系管理实验室"


def _open_tab(at: AppTest, name: str, lang: str) -> AppTest:
    """Open one of the Simulate page's tabs, as a click on it does (the tabs keep state)."""
    at.session_state["sim_tab"] = t(f"sim.tab_{name}", lang)
    return at.run()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_simulate_page_runs_a_plan_and_draws_the_dashboards(lang):
    at = _page("simulate", lang, 2000, 3)
    assert not at.exception
    assert len(at.metric) == 0 and at.info  # nothing runs until asked
    at.selectbox(key="sim_preset").select("pyramid")
    at.slider(key="sim_months").set_value(18)
    at.button(key="sim_run").click().run()
    assert not at.exception
    assert len(at.metric) == 6
    assert all(m.delta is not None for m in at.metric if m.value != "—")
    drawn = {}
    for name in ("money", "retention", "satisfaction", "complaints", "customer"):
        _open_tab(at, name, lang)
        assert not at.exception, name
        drawn[name] = len(at.get("plotly_chart"))
    # only the open tab is drawn: one or two charts each, eight in all
    assert drawn["money"] == 1 and drawn["retention"] == 2 and drawn["satisfaction"] == 2
    assert sum(drawn.values()) >= 8
    _open_tab(at, "roi", lang)
    assert not at.get("plotly_chart")  # nothing until asked
    at.button(key="sim_roi_run").click().run()
    assert not at.exception
    assert at.session_state["sim_tab"] == t("sim.tab_roi", lang)  # the tab stays open
    roi = at.dataframe[-1].value
    assert len(roi) >= 5  # the levers the plan uses and its three segments
    assert len(at.get("plotly_chart")) == 1
    story = " ".join(m.value for m in at.markdown)
    assert ("留到了最后" in story) if lang == "zh" else ("stayed to the end" in story)


def test_simulate_page_drill_down_explains_a_leaver():
    at = _page("simulate", "en", 2000, 3)
    at.selectbox(key="sim_preset").select("zero")
    at.button(key="sim_run").click().run()
    _open_tab(at, "customer", "en")
    assert not at.exception
    first = at.selectbox(key="sim_customer").options[0]
    assert first.endswith("left")  # leavers are listed first
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Why this customer left" in spec for spec in titles)
    words = " ".join(m.value for m in at.markdown)  # the first leaver is one the chart explains
    assert "What pushed the risk up most" in words and "bad luck" not in words


def test_home_choices_reach_the_simulate_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    at.selectbox(key="case_id").select("saas").run()
    assert at.session_state["setup"]["case_id"] == "saas"


@pytest.mark.parametrize(
    ("value", "lang", "text"),
    [
        (175_054_321.0, "zh", "1.8亿"),
        (17_505_432.0, "zh", "1,751万"),
        (1_750_543.0, "zh", "175.1万"),
        (950.0, "zh", "950"),
        (17_505_432.0, "en", "17.51M"),
        (-2_500.0, "en", "-2.50K"),
        (3_000.0, "en", "3.00K"),
    ],
)
def test_money_fits_a_card(value, lang, text):
    from crmsim.ui.formatting import money

    assert money(value, lang) == text
    assert money(abs(value), lang, signed=True).startswith("+")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_compare_page_puts_plans_side_by_side_with_replicates(lang):
    at = _page("compare", lang)
    assert not at.exception and at.info
    at.slider(key="cmp_months").set_value(12)
    at.slider(key="cmp_reps").set_value(2)
    at.button(key="cmp_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table.shape == (6, 3)  # six figures × status quo, zero service, pyramid
    assert all("(" in str(v) for v in table.iloc[:, 1]) or table.iloc[:, 1].isna().any()
    if lang == "zh":
        assert any("个百分点" in str(v) for v in table.iloc[:, 1])
    assert len(at.get("plotly_chart")) == 3


def test_compare_caps_the_number_of_plans():
    at = _page("compare", "en")
    from crmsim.plans import PRESETS

    at.multiselect(key="cmp_plans").set_value(list(PRESETS)).run()
    assert not at.exception and at.warning


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("method", ["pyramid", "abc", "clv", "rfm", "kmeans", "rules"])
def test_segments_page_every_method(lang, method):
    at = _page("segments", lang)
    at.selectbox(key="seg_method").set_value(method).run()
    assert not at.exception
    profile = at.dataframe[0].value
    assert profile.iloc[:, 1].sum() == 1500  # every customer in one segment
    assert len(at.get("plotly_chart")) == 2  # the scatter is the live chart (below)
    assert "updatemenus" in _scatter(at)[2]["layout"]  # axes chosen on the chart
    import json

    first, heat = (json.loads(c.proto.spec) for c in at.get("plotly_chart")[:2])
    pyramid_title = t("chart.pyramid_title", lang)
    assert (first["layout"]["title"]["text"] == pyramid_title) == (
        method in ("pyramid", "abc", "clv")
    )
    import base64

    z = heat["data"][0]["z"]  # the RFM heatmap (a typed array): every recency score is filled
    grid = np.frombuffer(base64.b64decode(z["bdata"]), z["dtype"]).reshape(5, 5)
    assert np.isfinite(grid).any(axis=1).all()
    assert at.session_state["segmentation"]["method"] == method
    if lang == "zh":
        assert "客户数" in profile.columns


def _scatter(at: AppTest) -> tuple[str, dict, dict]:
    """The Segments scatter as the page sends it (``live_chart``): its element id, the data
    the browser gets and the figure in it."""
    import json

    (chart,) = at.get("bidi_component")
    data = json.loads(chart.proto.json)
    return chart.proto.id, data, json.loads(data["figure"])


def _top_level_place(at: AppTest, chart_title: str) -> int:
    """Where on the page (its index among the main area's elements) the block holding the
    chart with this title sits."""
    import json

    for i, node in at.main.children.items():
        charts_in = node.get("plotly_chart") if hasattr(node, "get") else []
        if any(
            chart_title in json.loads(c.proto.spec)["layout"]["title"]["text"] for c in charts_in
        ):
            return i
    raise AssertionError(f"no chart titled {chart_title}")


def test_segments_page_keeps_each_methods_parameters_and_its_layout():
    """Going back to a method shows what it had (Streamlit forgets the widgets a run does not
    draw: the pyramid came back at 1 %, 1 %, 1 % with an error), and whatever the method the
    charts keep their place on the page (so the browser keeps those that did not change)."""
    at = _page("segments", "en")
    assert [at.number_input(key=f"seg_share_{i}").value for i in range(3)] == [10, 30, 60]
    heatmap = t("chart.rfm_title", "en")
    place = _top_level_place(at, heatmap)
    at.number_input(key="seg_share_0").set_value(15).run()
    at.number_input(key="seg_share_2").set_value(55).run()
    for method in ("abc", "kmeans", "rules", "rfm", "clv"):
        at.selectbox(key="seg_method").set_value(method).run()
        assert not at.exception and not at.error, method
        assert _top_level_place(at, heatmap) == place, method
    at.selectbox(key="seg_method").set_value("pyramid").run()
    assert not at.exception and not at.error
    assert [at.number_input(key=f"seg_share_{i}").value for i in range(3)] == [15, 30, 55]
    assert at.session_state["segmentation"]["params"]["shares"] == pytest.approx([0.15, 0.3, 0.55])
    at.selectbox(key="seg_method").set_value("kmeans").run()
    at.slider(key="seg_k").set_value(6).run()
    at.selectbox(key="seg_method").set_value("abc").run()
    at.selectbox(key="seg_method").set_value("kmeans").run()
    assert at.slider(key="seg_k").value == 6 and not at.error
    assert len(set(at.session_state["segmentation"]["params"]["features"])) >= 2
    assert at.dataframe[0].value.shape[0] == 6  # six clusters in the profile


def test_a_new_method_keeps_what_it_does_not_change():
    """A new method redraws only what it changes: the RFM heatmap stays the same figure (same
    spec and element id, so the browser keeps the chart it drew), and the pyramid's, ABC's and
    CLV tiers' share boxes stay the same widgets (updated in place, not drawn anew), each
    method showing its own values in them."""
    at = _page("segments", "zh")

    def heat():
        return at.get("plotly_chart")[1].proto

    spec, ident = heat().spec, heat().id
    boxes = [at.number_input(key=f"seg_share_{i}").proto.id for i in range(3)]
    at.number_input(key="seg_share_0").set_value(20).run()
    at.number_input(key="seg_share_2").set_value(50).run()  # the pyramid at 20 / 30 / 50
    for method, values in (
        ("abc", [80, 15, 5]),
        ("clv", [5, 15, 30, 50]),
        ("rfm", []),
        ("pyramid", [20, 30, 50]),
    ):
        at.selectbox(key="seg_method").set_value(method).run()
        assert not at.exception and not at.error, method
        assert (heat().spec, heat().id) == (spec, ident), method
        shown = [at.number_input(key=f"seg_share_{i}") for i in range(len(values))]
        assert [box.value for box in shown] == values, method
        assert [box.proto.id for box in shown[:3]] == boxes[: len(shown)], method
    assert at.session_state["segmentation"]["params"]["shares"] == pytest.approx([0.2, 0.3, 0.5])


def test_a_new_method_updates_the_mounted_scatter():
    """A new method sends the scatter to the same chart (one element id whatever the figure,
    so the browser updates the mounted chart with Plotly.react instead of mounting a new WebGL
    chart): the figure and its name change with the segmentation, going back to a method sends
    the same figure again (the browser then draws nothing), and plotly.js comes from the app's
    own static folder."""
    at = _page("segments", "en")
    ident, data, fig = _scatter(at)
    assert data["src"] == f"app/static/{live_chart.JS_NAME}"
    assert (ROOT / "static" / live_chart.JS_NAME).stat().st_size > 1_000_000
    assert data["config"]["plotGlPixelRatio"] == 1 and not data["config"]["displaylogo"]
    assert not data["config"]["showSendToCloud"]  # plotly.js 4 uploads to its cloud otherwise
    seen = {"pyramid": (data["revision"], fig)}
    for method in ("abc", "kmeans", "pyramid"):
        at.selectbox(key="seg_method").set_value(method).run()
        assert not at.exception, method
        now_id, now, now_fig = _scatter(at)
        assert now_id == ident, method
        if method in seen:
            assert now["revision"] == seen[method][0], method
            continue
        assert all(now["revision"] != r for r, _ in seen.values()), method
        names = [trace["name"] for trace in now_fig["data"][1:]]  # the legend: the segments
        view = at.session_state["segmentation"]
        assert view["method"] == method
        assert len(names) == at.dataframe[0].value.shape[0], method  # one entry per segment
        seen[method] = (now["revision"], now_fig)
    assert seen["abc"][1]["data"][1]["name"] != seen["pyramid"][1]["data"][1]["name"]


def test_the_segments_view_is_made_once_per_population_and_choice():
    """What the Segments page draws of a segmentation is made once per population, method,
    parameters and language and shared (going back to a method only draws again); it is the
    segmentation the engine would use, and invalid parameters are refused every time."""
    from crmsim.errors import InputError
    from crmsim.ui import segments

    segments._segments_view.clear()
    case = load_case("telecom")
    pop = generate(case, 800, seed=3)
    chosen = {"case_id": "telecom", "customers": 800, "seed": 3}
    shares = {"shares": [0.7, 0.2, 0.1]}
    view = segments.segments_view(chosen, case, pop, "abc", shares, "en")
    assert segments.segments_view(chosen, case, pop, "abc", dict(shares), "en") is view
    direct = segment_for_case(pop.customers, "abc", shares, case, 3)
    np.testing.assert_array_equal(view.seg.labels, direct.labels)
    assert view.profile.iloc[:, 1].sum() == 800  # the table: every customer once
    assert view.profile.columns[2] == t("col.share", "en") + " %"
    other = segments.segments_view(chosen, case, pop, "abc", {"shares": [0.8, 0.15, 0.05]}, "en")
    assert other is not view and not np.array_equal(other.seg.labels, view.seg.labels)
    zh = segments.segments_view(chosen, case, pop, "abc", shares, "zh")
    assert zh is not view and "客户数" in zh.profile.columns
    for _ in range(2):
        with pytest.raises(InputError):
            segments.segments_view(chosen, case, pop, "abc", {"shares": [0.5, 0.3, 0.6]}, "en")
    heat = segments.rfm_chart(chosen, pop, "en")
    assert segments.rfm_chart(chosen, pop, "en") is heat
    assert segments.rfm_chart(chosen, pop, "zh") is not heat


def test_segments_page_reports_bad_parameters_in_the_users_language():
    at = _page("segments", "zh")
    at.number_input(key="seg_share_0").set_value(50).run()  # 50 + 30 + 60 ≠ 100
    assert not at.exception
    said = at.error[0].value
    assert at.error and "各层比例：各比例之和应为 100%（现在是 140%）" in said
    assert "segmentation.params" not in said
    at.selectbox(key="seg_method").set_value("rules").run()
    at.text_area(key="seg_rules").input(
        '[{"segment": "x", "conditions": [{"field": "wallet", "op": ">", "value": 1}]}]'
    ).run()
    assert not at.exception and "无法按字段" in at.error[0].value
    at.text_area(key="seg_rules").input("[{oops").run()
    assert not at.exception and "JSON" in at.error[0].value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plan_page_starts_valid_and_flags_overspending(lang):
    at = _page("plan", lang)
    assert not at.exception
    assert at.success and not at.error  # the status quo fits its budget
    case = load_case("telecom")
    pop = generate(case, 1500, seed=5)  # the page's book (``_page``)
    seg = segment_for_case(pop.customers, "pyramid", {}, case, 5)
    used = budget_use(case.status_quo, case, segment_spend(pop, seg, case))["total"]
    assert at.metric[0].delta == t(
        "problem.within_budget", lang, left=formatting.money(case.budget - used, lang)
    )
    label = t("plan_page.per_customer", lang, currency=currency_name(case.currency, lang))
    shown = next(d for d in at.dataframe if label in d.value.columns)
    per_customer = shown.value[label].tolist()
    assert '"%,.2f"' in shown.proto.columns  # every amount with two decimals (not 10.04 and 0.6)
    online_input = next(n for n in at.number_input if n.key.startswith("plan_acq_online"))
    assert online_input.proto.format == "%.0f"  # whole money, not 8000.00
    sq = case.status_quo.allocations
    sizes = {"key": 1000, "ordinary": 3000, "small": 6000}  # the 10/30/60 pyramid of 10,000
    expected = [(lv.care + lv.recovery + lv.cross_sell) / sizes[s] for s, lv in sq.items()]
    assert per_customer == pytest.approx(expected, abs=0.0051)  # shown to 2 decimals
    assert len(at.get("download_button")) == 2
    online = next(n for n in at.number_input if n.key.startswith("plan_acq_online"))
    online.set_value(1_000_000.0).run()
    assert not at.exception and at.error and not at.success
    said = at.error[0].value
    # in plain words, in money as the cards write it, with how much to take out
    levers = sum(lv.care + lv.recovery + lv.cross_sell for lv in sq.values())
    over = formatting.money(1_000_000.0 + levers - case.budget, lang)
    assert over in said and formatting.money(40_000.0, lang) in said
    assert ("超出" in said and "减少" in said) if lang == "zh" else "more than the budget" in said
    assert "allocations" not in said
    assert at.metric[0].delta == t("problem.over_budget_short", lang, over=over)
    html = " ".join(m.value for m in at.markdown)
    assert "#d62728" in html  # the bar turns red


def test_plan_page_uploads_a_plan_and_rejects_a_bad_one():
    at = _page("plan", "zh")
    good = (ROOT / "sample_data" / "plans" / "telecom_key_accounts.toml").read_bytes()
    at.file_uploader(key="plan_upload").upload("mine.toml", good, "application/toml").run()
    assert not at.exception and at.success and not at.error
    assert '"kam":1' in at.session_state["plan_json"].replace(" ", "")
    at.file_uploader(key="plan_upload").upload(
        "bad.toml", b"[allocations.whales]\ncare = -1\ndiscount = 2\n", "application/toml"
    ).run()
    assert not at.exception and at.error
    assert not at.success  # never "plan usable" beside a bad file's report
    report = at.error[0].value
    assert "客户群“whales”的关怀回访：数值过小" in report
    assert "90%" in report  # a rate's limit in %
    assert "（文件中的 allocations.whales.care）" in report  # where to look in the file
    assert "Traceback" not in report
    assert at.info[0].value == t("problem.upload_kept", "zh")
    assert '"kam":1' in at.session_state["plan_json"].replace(" ", "")  # the grid's plan stays
    at.run()  # another rerun with the file still there: still the report, still no success
    assert at.error and not at.success


def test_plan_page_takes_a_plan_for_another_segmentation_and_keeps_yours_on_a_bad_one():
    """A valid RFM plan is checked against RFM, as the CLI does (it was refused: "champions is
    not in the current segmentation"); a plan whose rule names an unknown field is refused
    by name and the plan being edited stays (it was replaced by the status quo, silently)."""
    at = _page("plan", "en")
    mine = at.session_state["plan_json"]
    rfm = b'name = "rfm"\n[segmentation]\nmethod = "rfm"\n[allocations.champions]\ncare = 500.0\n'
    at.file_uploader(key="plan_upload").upload("rfm.toml", rfm, "application/toml").run()
    assert not at.exception and not at.error
    assert '"method":"rfm"' in at.session_state["plan_json"].replace(" ", "")
    assert at.session_state["plan_json"] != mine
    mine = at.session_state["plan_json"]
    evil = (
        b'name = "x"\n[segmentation]\nmethod = "rules"\n[[segmentation.params.rules]]\n'
        b'segment = "vip"\nconditions = [{ field = "__import__(\'os\')", op = ">", value = 1 }]\n'
        b"[allocations.vip]\ncare = 10.0\n"
    )
    at.file_uploader(key="plan_upload").upload("evil.toml", evil, "application/toml").run()
    assert not at.exception
    report = at.error[0].value
    assert "segmentation.params.rules[1].conditions[1].field" in report and "__import__" in report
    assert t("problem.upload_kept", "en") in [i.value for i in at.info]
    assert at.session_state["plan_json"] == mine
    at.radio(key="lang_radio").set_value("zh").run()  # the report follows the language
    assert "无法按字段" in at.error[0].value


def test_my_plan_reaches_the_simulate_page():
    at = _page("plan", "en")
    assert at.session_state["plan_json"]
    at.switch_page("pages/simulate.py").run()
    assert not at.exception
    assert (
        "my_plan" in at.selectbox(key="sim_preset").options
        or "My plan" in at.selectbox(key="sim_preset").options
    )


def test_customers_page_writes_its_files_only_when_asked(monkeypatch):
    """A rerun draws the download buttons without writing the CSV and the workbook (a 10k-row
    .xlsx took 5 s of every rerun); the browser test downloads both."""
    import crmsim.customers_io as cio

    written = []
    monkeypatch.setattr(cio, "to_csv_bytes", lambda df: written.append("csv") or b"")
    monkeypatch.setattr(cio, "to_xlsx_bytes", lambda df: written.append("xlsx") or b"")
    at = _page("customers", "en")
    at.run()
    assert not at.exception
    assert len(at.get("download_button")) == 2
    assert written == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_customers_page_shows_the_generated_book(lang):
    at = _page("customers", lang)
    assert not at.exception
    assert at.metric[0].value == "1,500"
    assert len(at.get("plotly_chart")) == 3
    assert len(at.get("download_button")) == 2
    table = at.dataframe[0].value
    headers = list(table.columns)
    assert ("客户编号" in headers) if lang == "zh" else ("Customer ID" in headers)
    channels = set(table[t("col.channel", lang)])
    assert channels <= {
        t(f"channel.{c}", lang)
        for c in ("referral", "telephone", "direct_mail", "events", "online")
    }
    if lang == "zh":
        assert not any(ch.isascii() for ch in channels)  # 转介绍, not referral
    spend = table[t("col.monetary", lang)]
    assert (spend == spend.round(0)).all()  # whole units, not 183.7312


def test_customers_page_reads_an_excel_gbk_file_and_keeps_it_after_a_bad_one():
    at = _page("customers", "zh")
    gbk = "customer_id,name,city,monetary,stage\nA1,王伟,北京,100,稳定期\nA2,李娜,上海,50,考察期\n"
    at.file_uploader(key="cust_upload").upload("客户.csv", gbk.encode("gbk"), "text/csv").run()
    assert not at.exception and not at.error
    at.radio(key="cust_source").set_value("uploaded").run()
    assert at.metric[0].value == "2"
    assert "gb18030" in " ".join(c.value for c in at.caption)
    at.file_uploader(key="cust_upload").upload(
        "bad.csv", b"customer_id,monetary\nX,abc\n", "text/csv"
    ).run()
    assert not at.exception
    assert at.error and "monetary" in at.error[0].value and "应为数字" in at.error[0].value
    assert at.metric[0].value == "2"  # what was loaded before stays


def test_customers_search():
    at = _page("customers", "en")
    at.text_input(key="cust_search").input("C000001").run()
    assert not at.exception
    assert 1 <= len(at.dataframe[0].value) <= 11


def _home(lang: str, customers: int = 800) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.session_state["setup"] = {"case_id": "telecom", "customers": customers, "seed": 5}
    at.run()
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_instructor_uploads_a_case_that_then_drives_every_page(lang):
    from crmsim.cases import CASES_DIR

    at = _home(lang)
    template = at.get("download_button")[0]
    assert template.proto.label.startswith("下载案例模板" if lang == "zh" else "Download the case")
    raw = (CASES_DIR / "_template.toml").read_text(encoding="utf-8")
    raw = raw.replace('zh = "我的案例"', 'zh = "我上传的案例"').replace(
        'en = "My case"', 'en = "My uploaded case"'
    )
    at.file_uploader(key="case_upload").upload("mine.toml", raw.encode(), "application/toml")
    at.run()
    assert not at.exception
    picked = at.selectbox(key="case_id").value
    assert picked.startswith("upload_")
    title = "我上传的案例" if lang == "zh" else "My uploaded case"
    assert at.subheader[0].value == title
    assert any("my_case" in s.value for s in at.success)
    for page in ("customers", "segments", "simulate"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, page
        assert any(title in c.value for c in at.caption), page
    at.switch_page("pages/plan.py").run()
    budget = formatting.money(60_000.0, lang)  # the template's budget, not telecom's
    assert not at.exception and any(budget in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_bad_case_upload_is_reported_and_the_case_stays(lang):
    corpus = ROOT / "tests" / "data" / "broken_cases"
    at = _home(lang)
    at.selectbox(key="case_id").select("y_company").run()
    bad = (corpus / "15_unknown_segment.toml").read_bytes()
    at.file_uploader(key="case_upload").upload("bad.toml", bad, "application/toml").run()
    assert not at.exception
    assert at.selectbox(key="case_id").value == "y_company"
    report = at.error[0].value
    assert "status_quo.allocations.vip" in report
    assert ("细分群" if lang == "zh" else "is not in the current segmentation") in report
    kept = "Y 公司" if lang == "zh" else "Company Y"
    assert kept in at.info[0].value
    not_utf8 = (corpus / "22_not_utf8.toml").read_bytes()
    at.file_uploader(key="case_upload").upload("gbk.toml", not_utf8, "application/toml").run()
    assert "UTF-8" in at.error[0].value and at.selectbox(key="case_id").value == "y_company"


def test_calibration_check_on_the_home_page():
    at = _home("zh")
    at.selectbox(key="case_id").select("rice_shop").run()
    at.toggle(key="case_calibration").set_value(True).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "结论" in d.value.columns)
    assert list(table["结论"]) == ["达标"] * 3
    assert "月流失率" in list(table["目标"])


def test_every_builtin_case_opens_in_both_languages():
    from crmsim.cases import builtin_case_ids

    for lang in ("zh", "en"):
        at = _home(lang, customers=300)
        for cid in builtin_case_ids():
            at.selectbox(key="case_id").select(cid).run()
            assert not at.exception, (lang, cid)
            assert at.subheader[0].value


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("zh", "第 15 个月起，持续 6 个月：核心销售人员离职带走客户"),
        ("en", "Month 15, for 6 month(s): Core salesperson leaves with accounts"),
    ],
)
def test_home_lists_the_case_events_and_simulate_asks_the_debrief(lang, line):
    at = _home(lang, customers=500)
    at.selectbox(key="case_id").select("y_company").run()
    assert any(line in m.value for m in at.markdown)
    at.switch_page("pages/simulate.py").run()
    at.button[0].click().run()
    assert not at.exception
    debrief = case_store.case("y_company").debrief[0].get(lang)
    assert any(debrief in m.value for m in at.markdown)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_real_data_page_fits_the_example_and_makes_a_population_to_simulate(lang):
    at = _page("real_data", lang)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("real.customers", lang)] == "2,357"
    table = next(d.value for d in at.dataframe if t("real.estimate", lang) in d.value.columns)
    names, values = table[t("real.parameter", lang)], table[t("real.estimate", lang)]
    estimates = dict(zip(names, values, strict=True))
    assert estimates["r"] == pytest.approx(0.243, rel=0.01)
    assert estimates["b"] == pytest.approx(2.426, rel=0.01)
    clv_title = t("real.log.colname_clv", lang, months=12)
    assert any(clv_title in d.value.columns for d in at.dataframe)
    at.button(key="real_like").click().run()
    assert not at.exception and at.success
    # the synthetic book next to the real one: every figure within its tolerance on CDNOW
    verdict = t("real.like.verdict", lang)
    compared = next(d.value for d in at.dataframe if verdict in d.value.columns)
    assert len(compared) == 11 and set(compared[verdict]) == {t("real.like.within", lang)}
    assert t("real.like.fig_buy_share", lang) in set(compared[t("real.like.figure", lang)])
    assert (
        at.selectbox(key=next(w.key for w in at.selectbox if "currency" in str(w.key))).value
        == "USD"
    )
    at.switch_page("pages/simulate.py").run()
    caption = next(c.value for c in at.caption if "2,357" in c.value)
    assert ("与你的数据相似" if lang == "zh" else "Customers like your data") in caption
    at.button[0].click().run()
    assert not at.exception and len(at.metric) == 6


def _picker(at: AppTest, prefix: str):
    """A widget of the current file (their keys end with the file's digest)."""
    return next(w for w in at.selectbox if str(w.key).startswith(prefix))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_real_data_page_reports_a_bad_log_and_keeps_the_good_one(lang):
    at = _page("real_data", lang)
    at.radio(key="real_source").set_value("upload").run()
    good = "customer_id,date,amount\n" + "".join(
        f"c{i % 30},2024-{i % 12 + 1:02d}-{i % 27 + 1:02d},{10 + i % 7}\n" for i in range(300)
    )
    at.file_uploader(key="real_upload").upload("log.csv", good.encode(), "text/csv").run()
    assert not at.exception and not at.error
    assert any(m.value == "30" for m in at.metric)
    _picker(at, "real_col_date").select("amount").run()
    assert not at.exception
    assert ("日期无法识别" if lang == "zh" else "dates not readable") in at.error[0].value
    _picker(at, "real_col_date").select("date").run()
    assert not at.error and any(m.value == "30" for m in at.metric)
    kept = t("real.kept", lang, rows="300", first="2024-01-01", last="2024-12-27")
    one_day = "customer_id,date,amount\n" + "".join(f"c{i},2024-05-01,{i + 1}\n" for i in range(40))
    at.file_uploader(key="real_upload").upload("day.csv", one_day.encode(), "text/csv").run()
    assert not at.exception
    assert ("两天之内" if lang == "zh" else "within two days") in at.error[0].value
    assert kept in [i.value for i in at.info]  # the good log stays, and the page says so
    assert any(m.value == "30" for m in at.metric)
    no_amount = "customer_id,date\n" + "".join(f"c{i},2024-05-0{i % 9 + 1}\n" for i in range(40))
    at.file_uploader(key="real_upload").upload("na.csv", no_amount.encode(), "text/csv").run()
    assert not at.exception and at.error and any(m.value == "30" for m in at.metric)
    other = good.replace("customer_id", "客户编号").replace("amount", "金额").replace("c", "k")
    at.file_uploader(key="real_upload").upload("k.csv", other.encode(), "text/csv").run()
    assert not at.exception and not at.error  # the new file gets its own column pickers
    assert _picker(at, "real_col_customer").value == "客户编号"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_real_data_page_asks_the_date_order_of_an_ambiguous_log(lang):
    at = _page("real_data", lang)
    at.radio(key="real_source").set_value("upload").run()
    rows = [
        f"c{i % 30},{i % 12 + 1:02d}/{i // 25 % 12 + 1:02d}/2024,{10 + i % 7}" for i in range(300)
    ]
    raw = ("customer_id,date,amount\n" + "\n".join(rows) + "\n").encode()
    at.file_uploader(key="real_upload").upload("d.csv", raw, "text/csv").run()
    assert not at.exception and at.error
    assert t("real.date_order", lang) in at.error[0].value
    _picker(at, "real_date_order").select("day").run()
    assert not at.exception and not at.error
    assert any(m.value == "30" for m in at.metric)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_lesson_runs_and_its_self_check_marks_it_done(lang):
    from crmsim.lessons import LESSONS

    at = _page("learn", lang)
    assert not at.exception
    for lesson in LESSONS:
        at.selectbox(key="learn_pick").select(lesson.key).run()
        assert not at.exception, lesson.key
        assert at.header[0].value == t(f"learn.{lesson.key}.title", lang)
        assert lesson.key in str(at.query_params["lesson"])  # bookmarkable
        notice = next(m.value for m in at.markdown if m.value.startswith("- "))
        assert "{" not in notice and any(ch.isdigit() for ch in notice)
        assert at.success  # the run shows the lesson's claim
        assert len(at.get("plotly_chart")) == 1  # the experiment's chart
        knob = at.slider(key=f"learn_knob_{lesson.key}")
        assert knob.label == t(f"learn.knob.{lesson.knob.name}", lang)
        for i, q in enumerate(lesson.questions, 1):
            at.radio(key=f"learn_{lesson.key}_q{i}").set_value(q.answer)
        at.button(key=f"learn_submit_{lesson.key}").click().run()
        assert any(t("learn.all_right", lang) in s.value for s in at.success), lesson.key
    done = at.query_params["done"]
    done = done[0] if isinstance(done, list) else done
    assert set(done.split(",")) == {lesson.key for lesson in LESSONS}
    assert t("learn.progress", lang, done=len(LESSONS), total=len(LESSONS)) in str(
        at.get("progress")[0].proto
    )


def test_a_learner_turns_the_lessons_knob_and_the_experiment_follows():
    at = _page("learn", "en")
    at.selectbox(key="learn_pick").select("key_accounts").run()
    before = at.get("plotly_chart")[0].proto.spec
    at.slider(key="learn_knob_key_accounts").set_value(3).run()
    assert not at.exception
    assert "without and with 3 key-account managers" in " ".join(m.value for m in at.markdown)
    assert at.get("plotly_chart")[0].proto.spec != before


def test_a_wrong_answer_explains_the_right_one_and_progress_comes_back_from_the_url():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = "en"
    at.query_params["lesson"] = "recovery"
    at.query_params["done"] = "lifecycle,zones,bogus"
    at.switch_page("pages/learn.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="learn_pick").value == "recovery"
    assert "Done: 2 of 9 lessons" in str(at.get("progress")[0].proto)
    at.button(key="learn_submit_recovery").click().run()
    assert "Answer every question first." in at.warning[0].value
    for i in (1, 2, 3):
        at.radio(key=f"learn_recovery_q{i}").set_value((i + 1) % 3)  # all wrong
    at.button(key="learn_submit_recovery").click().run()
    assert any(t("learn.recovery.q1_why", "en") in e.value for e in at.error)
    assert "0 of 3 correct." in at.info[0].value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_glossary_lists_both_languages_links_lessons_and_searches(lang):
    at = _page("glossary", lang)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**让渡价值** · Customer delivered value" in text
    assert "**考察期** · Exploration stage" in text
    links = at.get("page_link")
    assert any(t("learn.zones.title", lang) in str(link.proto) for link in links)
    at.text_input(key="glossary_search").input("MAN").run()
    shown = " ".join(m.value for m in at.markdown)
    assert "MAN" in shown and "考察期" not in shown


def test_a_bad_customers_file_is_explained_again_in_the_new_language():
    at = _page("customers", "zh")
    at.file_uploader(key="cust_upload").upload("bad.csv", b"name\nA\n", "text/csv").run()
    assert "customer_id" in at.error[0].value and "缺少" in at.error[0].value
    at.radio(key="lang_radio").set_value("en").run()
    assert not at.exception
    assert "this column is missing" in at.error[0].value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_plan_page_lever_help_and_sweet_spots_come_from_the_model(lang):
    """Each lever's help and the per-cell table are computed from the case's model: change a
    coefficient or a cost and the page says something else."""
    from crmsim.model.levers import cell_dose, lever_guide
    from crmsim.money import with_currency
    from crmsim.ui.plan_grid import _per_unit

    at = _page("plan", lang)
    assert not at.exception
    case = load_case("telecom")
    guide = lever_guide(case)
    sweet = with_currency(_per_unit(guide["care"].sweet_spot, lang), case.currency, lang)
    ref = next(e for e in at.expander if e.label == t("lever_help.reference", lang))
    body = " ".join(m.value for m in ref.markdown)
    assert sweet in body and t("lever_help.what_recovery", lang) in body
    care = t("lever.care", lang)
    cells = next(
        d.value
        for d in at.dataframe
        if care in d.value.columns and isinstance(d.value[care].iloc[0], str)
    )
    key_care = cells[t("lever.care", lang)].iloc[0]
    expected = cell_dose(case, "care", case.status_quo.allocations["key"].care, 1000, 1, 0)
    assert t(f"dose.{expected.state}", lang, dose="").split("·")[-1].strip() in key_care


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_real_data_page_reads_an_online_retail_log_as_it_comes(lang):
    """Invoice lines with quantity × unit price, guest rows and cancellations: guessed,
    shown in editable pickers, cleaned with notes, fitted with its diagnostics; the page has
    the command line's options."""
    at = _page("real_data", lang)
    at.radio(key="real_source").set_value("retail").run()
    assert not at.exception and not at.error
    assert _picker(at, "real_col_customer").value == "CustomerID"
    assert _picker(at, "real_col_quantity").value == "Quantity"
    assert _picker(at, "real_col_unit_price").value == "UnitPrice"
    assert _picker(at, "real_col_invoice").value == "InvoiceNo"
    assert any("Quantity × UnitPrice" in c.value for c in at.caption)  # the guess, shown
    infos = " ".join(i.value for i in at.info)
    assert "2,968" in infos and "195" in infos  # guests and cancelled lines, counted
    assert at.success or at.warning  # the diagnostics sit next to the fit
    for key in ("real_months", "real_discount", "real_margin"):
        assert at.number_input(key=key)
    assert any(str(d.key).startswith("real_obs_end") for d in at.date_input)
    assert any(str(w.key).startswith("real_date_format") for w in at.text_input)
    # turning the quantity off reads the log by its unit price alone: a different total
    clv_label = t("real.log.total_clv", lang, months=12)
    before = next(m.value for m in at.metric if m.label == clv_label)
    _picker(at, "real_col_quantity").select("").run()
    assert not at.exception and not at.error
    after = next(m.value for m in at.metric if m.label == clv_label)
    assert before != after
