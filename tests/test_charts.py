"""Figure builders: plain Plotly figures, every label translated, built from real runs."""

import numpy as np
import plotly.graph_objects as go
import pytest

from crmsim import charts
from crmsim.i18n import t
from crmsim.metrics import cohort_table, kaplan_meier
from crmsim.model.run import simulate
from crmsim.segmentation import rfm_scores, segment

CJK = ("\u4e00", "\u9fff")


@pytest.fixture(scope="module")
def run(telecom, pop_mid):
    return simulate(pop_mid, telecom, telecom.status_quo, 18, 5)


def _texts(fig: go.Figure) -> str:
    """Every text a reader sees: layout (titles, axes, annotations) and trace names/labels."""
    data = fig.to_plotly_json()
    return str(data["layout"]) + str(
        [(tr.get("name"), tr.get("text"), tr.get("node", {}).get("label")) for tr in data["data"]]
    )


def _has_cjk(s: str) -> bool:
    return any(CJK[0] <= ch <= CJK[1] for ch in s)


def _left_in(run, position: int) -> int:
    return int(run.customers["churn_month"].to_numpy()[run.sample["slots"][position]])


def builders(run, pop, lang):
    c = pop.customers
    seg = segment(c, "pyramid")
    slot = int(np.flatnonzero(run.customers["churn_month"].to_numpy()[run.sample["slots"]] > 0)[0])
    return {
        "pareto": charts.pareto_curve(c["revenue_12m"].to_numpy(), lang),
        "stage_mix": charts.stage_mix(c["stage"].value_counts().to_dict(), lang),
        "pyramid": charts.pyramid(seg.profile, lang),
        "rfm": charts.rfm_heatmap(rfm_scores(c), c["monetary"].to_numpy(), lang),
        "retention": charts.retention_curves(kaplan_meier(run), lang),
        "satisfaction": charts.satisfaction_heatmap(run.sat_hist, lang),
        "sankey": charts.stage_sankey(run.transitions, lang),
        "cohorts": charts.cohort_heatmap(cohort_table(run), lang),
        "money": charts.money_over_time(
            run.monthly, [{"month": 6, "title_zh": "竞争者进入", "title_en": "Rival enters"}], lang
        ),
        "complaints": charts.complaints_over_time(run.monthly, lang),
        "timeline": charts.customer_timeline(run.sample, slot, lang),
        "reasons": charts.churn_reasons(
            run.sample["terms"][slot], run.sample["terms_mean"][_left_in(run, slot) - 1], lang
        ),
        "shares": charts.segment_chart(segment(c, "rfm").profile, "rfm", lang),
        "scatter": charts.scatter_customers(c, "recency", "monetary", seg.labels, seg.names, lang),
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_builder_makes_a_translated_figure(run, pop_mid, lang):
    for name, fig in builders(run, pop_mid, lang).items():
        assert isinstance(fig, go.Figure) and fig.data, name
        text = _texts(fig)
        assert _has_cjk(text) == (lang == "zh"), name
        assert "chart." not in text and "stage." not in text and "term." not in text, name


def test_pareto_marks_the_top_fifth(pop_mid):
    fig = charts.pareto_curve(pop_mid.customers["revenue_12m"].to_numpy(), "en")
    note = fig.layout.annotations[0].text
    share = (
        pop_mid.customers["revenue_12m"].nlargest(1200).sum()
        / pop_mid.customers["revenue_12m"].sum()
    )
    assert f"{share:.0%}" in note


def test_sankey_counts_only_moves(run):
    fig = charts.stage_sankey(run.transitions, "en")
    total = run.transitions.sum(axis=0)
    moves = total[:4].sum() - np.trace(total[:4, :4])
    assert sum(fig.data[0].link.value) == moves


def test_scatter_draws_at_most_the_cap_stratified_by_segment(pop_mid):
    seg = segment(pop_mid.customers, "pyramid")
    fig = charts.scatter_customers(
        pop_mid.customers, "recency", "monetary", seg.labels, seg.names, "en"
    )
    points = [tr for tr in fig.data if tr.customdata is not None]
    assert len(points) == 1 and len(points[0].x) == charts.MAX_POINTS == 3000  # one WebGL trace
    rows = np.asarray(points[0].customdata)
    assert len(set(rows)) == len(rows) and rows.max() < pop_mid.n
    # each segment keeps its share of the points: 10 / 30 / 60%
    drawn = np.bincount(seg.labels[rows], minlength=3) / len(rows)
    assert drawn == pytest.approx([0.1, 0.3, 0.6], abs=0.001)
    legend = [tr.name for tr in fig.data if tr.customdata is None]
    assert legend == ["Key accounts", "Ordinary customers", "Small customers"]
    # each point wears its segment's colour, the one its legend entry shows
    colour_of = {tr.name: tr.marker.color for tr in fig.data if tr.customdata is None}
    np.testing.assert_array_equal(np.asarray(points[0].marker.color), seg.labels[rows])
    scale = points[0].marker.colorscale  # segment s sits on the step of its legend colour
    k = len(seg.names)
    for s, name in enumerate(legend):
        (lo, c_lo), (hi, c_hi) = scale[2 * s], scale[2 * s + 1]
        assert (lo, hi) == pytest.approx((s / k, (s + 1) / k))
        assert c_lo == c_hi == colour_of[name]


def test_scatter_carries_the_selection_modes_streamlit_would_add(pop_mid):
    """Box selection first, selection by drag only, hover on the nearest point: the modes
    Streamlit sets on a chart with box and lasso selection when the figure lacks them (and
    then has Plotly draw the chart a second time)."""
    seg = segment(pop_mid.customers, "abc")
    fig = charts.scatter_customers(
        pop_mid.customers, "recency", "monetary", seg.labels, seg.names, "zh"
    )
    assert (fig.layout.dragmode, fig.layout.clickmode, fig.layout.hovermode) == (
        "select",
        "event",
        "closest",
    )
    assert fig.data[0].type == "scattergl"  # software WebGL beat SVG at 3,000 points
    assert charts.SCATTER_CONFIG == {"plotGlPixelRatio": 1}


def test_a_small_segment_keeps_its_points():
    labels = np.r_[np.zeros(9990, int), np.ones(10, int)]
    picked = charts.stratified_sample(labels, 300, seed=1)
    assert len(picked) == 300 and (labels[picked] == 1).sum() >= 1
    assert charts.stratified_sample(labels[:200], 300).tolist() == list(range(200))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scatter_axis_menus_switch_the_points_to_each_column(pop_mid, lang):
    """The axis menus carry, for every offered column, the values of exactly the drawn rows,
    set on the points trace only, with the axis title to match; each opens on the axis drawn."""
    c = pop_mid.customers
    seg = segment(c, "pyramid")
    axes = ["recency", "frequency", "monetary", "revenue_12m", "tenure_months"]
    charts_cap = charts.scatter.MAX_POINTS
    try:
        charts.scatter.MAX_POINTS = 1000  # a sample: the menus must follow the same rows
        fig = charts.scatter_customers(
            c, "frequency", "monetary", seg.labels, seg.names, lang, 7, axes
        )
    finally:
        charts.scatter.MAX_POINTS = charts_cap
    assert len(fig.data[0].x) == 1000
    rows = np.asarray(fig.data[0].customdata)
    x_menu, y_menu = fig.layout.updatemenus
    assert (x_menu.active, y_menu.active) == (1, 2)
    for axis, menu in (("x", x_menu), ("y", y_menu)):
        assert len(menu.buttons) == len(axes)
        for col, button in zip(axes, menu.buttons, strict=True):
            data, layout, traces = button.args
            assert list(traces) == [0]  # the legend entries keep their empty data
            np.testing.assert_allclose(data[axis][0], c[col].to_numpy()[rows], atol=0.005)
            title = layout[f"{axis}axis.title.text"]
            assert title == t(f"col.{col}", lang) and title in button.label
            assert button.label.startswith(t(f"seg_page.{axis}", lang))
    # what is drawn first is what the open menus say
    np.testing.assert_array_equal(fig.data[0].x, c["frequency"].to_numpy()[rows])
    assert fig.layout.xaxis.title.text == x_menu.buttons[1].args[1]["xaxis.title.text"]
    no_menus = charts.scatter_customers(c, "recency", "monetary", seg.labels, seg.names, lang)
    assert not no_menus.layout.updatemenus


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_case_events_are_marked_on_every_time_chart(lang):
    from crmsim.cases import load_case
    from crmsim.population import generate

    case = load_case("y_company")
    pop = generate(case, 600, seed=3)
    res = simulate(pop, case, case.status_quo, 24, 3, sample_size=0)
    events = res.meta["events"]
    assert {e["month"] for e in events} == {6, 15}  # two events share month 15
    figs = [
        charts.money_over_time(res.monthly, events, lang),
        charts.complaints_over_time(res.monthly, lang, events),
        charts.retention_curves(kaplan_meier(res), lang, events),
        charts.satisfaction_heatmap(res.sat_hist, lang, events),
        charts.overlay_lines(
            {"a": res.monthly.set_index("month")["profit"]}, "t", "y", lang, events=events
        ),
    ]
    rival = "A 公司进入本地市场" if lang == "zh" else "Company A moves in"
    leaves = "核心销售人员离职带走客户" if lang == "zh" else "Core salesperson leaves with accounts"
    for fig in figs:
        lines = [sh for sh in fig.layout.shapes if sh.line.dash == "dash"]
        assert sorted(sh.x0 for sh in lines) == [6, 15]
        notes = [a.text for a in fig.layout.annotations]
        assert any(rival == n for n in notes)
        assert any(n.startswith(leaves + " / ") for n in notes)  # same month: one line, both


def test_timeline_stops_when_the_customer_leaves(run):
    slots = run.sample["slots"]
    left = run.customers["churn_month"].to_numpy()[slots]
    j = int(np.flatnonzero((left > 3) & (left < run.months))[0])
    fig = charts.customer_timeline(run.sample, j, "en")
    stages = [tr for tr in fig.data if tr.marker.symbol == "square"]
    assert max(max(tr.x) for tr in stages) == left[j]


def test_timeline_names_each_stage_colour_in_the_legend(run):
    """The stage markers were one legend entry ("Stage") for five colours."""
    slots = run.sample["slots"]
    j = int(np.flatnonzero(run.customers["churn_month"].to_numpy()[slots] > 0)[0])
    fig = charts.customer_timeline(run.sample, j, "zh")
    stages = [tr for tr in fig.data if tr.marker.symbol == "square"]
    names = {tr.name for tr in stages}
    assert "流失" in names  # the month she left has its own colour and name
    assert len({tr.marker.color for tr in stages}) == len(stages) == len(names) >= 2
    months = np.concatenate([tr.x for tr in stages])
    assert len(months) == len(set(months))  # each month once


def test_log_distribution_leaves_out_zero_spenders():
    fig = charts.distribution(np.array([0.0, 0.0, 5.0, 50.0, 500.0]), "t", "x", "en", log=True)
    assert len(fig.data[0].x) == 3
    assert list(fig.layout.xaxis.ticktext) == ["1", "10", "100", "1,000"]


def test_core_modules_never_import_streamlit_or_plotly():
    """DESIGN §2: only crmsim.ui (Streamlit) and crmsim.charts (Plotly) may."""
    import ast
    from pathlib import Path

    root = Path(charts.__file__).parent.parent  # crmsim/, where the charts are a package
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        bad = [m for m in names if m.split(".")[0] in ("streamlit", "plotly")]
        bad += [m for m in names if m.startswith(("crmsim.charts", "crmsim.ui"))]
        bad += [
            a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "crmsim"
            for a in n.names
            if a.name in ("charts", "ui")
        ]
        assert not bad, (path.name, bad)


def test_the_pyramid_is_drawn_only_for_value_tiers_with_widths_by_share(pop_mid):
    c = pop_mid.customers
    tiers = segment(c, "clv")  # 5/15/30/50
    fig = charts.segment_chart(tiers.profile, "clv", "en")
    widths = [tr.x[0] for tr in fig.data]
    shares = tiers.profile["share"].to_numpy()
    assert widths == pytest.approx(shares / shares.max())  # by share, not by rank
    assert widths == sorted(widths)  # narrowest on top
    for method in ("rfm", "kmeans"):
        seg = segment(c, method, seed=1)
        other = charts.segment_chart(seg.profile, method, "zh")
        assert "金字塔" not in _texts(other)  # RFM groups and clusters are not tiers
        assert [tr.type for tr in other.data] == ["bar", "bar"]
        assert list(other.data[0].x) == pytest.approx(seg.profile["share"].tolist())


def test_why_she_left_is_her_push_above_the_average_customer(run):
    slots = run.sample["slots"]
    left = run.customers["churn_month"].to_numpy()[slots]
    for position in np.flatnonzero(left > 0)[:20]:
        mine = run.sample["terms"][position]
        average = run.sample["terms_mean"][left[position] - 1]
        p_mine, p_avg, push = charts.churn_push(mine, average)
        # her own propensity is the starting point; the other parts' pushes add up to her
        # probability minus that of a customer like her in propensity, average in the rest
        like_average = np.r_[mine[0], average[1:]]
        assert p_avg == pytest.approx(1 / (1 + np.exp(-like_average.sum())), rel=1e-6)
        assert push[0] == 0
        assert push.sum() == pytest.approx((p_mine - p_avg) * 100, abs=1e-6)
        assert np.sign(push[1:]).tolist() == np.sign(mine[1:] - average[1:]).tolist()
    fig = charts.churn_reasons(mine, average, "zh")
    assert "百分点" in fig.layout.xaxis.title.text and "对数几率" not in _texts(fig)
    assert list(fig.data[0].text) == [f"{v:+.2f}" for v in fig.data[0].x]
    assert "一般客户" in fig.layout.title.subtitle.text
    assert t("term.frailty", "zh") not in list(fig.data[0].y)


def test_the_drill_down_lists_first_the_leavers_the_chart_explains(run):
    """The first leaver shown used to be one every part of whose risk was below the average's
    (nothing to explain): now leavers pushed above the average come first, then the lucky
    ones, then those who stayed, each group by the length of its story."""
    from crmsim.ui.dashboards import drill_down_order

    left = run.customers["churn_month"].to_numpy()[run.sample["slots"]]
    order = drill_down_order(run, limit=len(left))
    assert sorted(order) == list(range(len(left)))

    def group(j):
        if left[j] <= 0:
            return 2
        mine, like_average, _ = charts.churn_push(
            run.sample["terms"][j], run.sample["terms_mean"][left[j] - 1]
        )
        return 0 if mine > like_average else 1

    groups = [group(j) for j in order]
    assert groups == sorted(groups) and set(groups) == {0, 1, 2}  # every kind is in this run
    first = [j for j, g in zip(order, groups, strict=True) if g == 0]
    assert [left[j] for j in first] == sorted((left[j] for j in first), reverse=True)
    words = charts.churn_reason_words(
        run.sample["terms"][order[0]], run.sample["terms_mean"][left[order[0]] - 1], "en"
    )
    assert "What pushed the risk up most" in words


def test_why_she_left_in_words_names_the_biggest_pushes():
    from crmsim.model.month import HAZARD_TERMS

    average = np.zeros(len(HAZARD_TERMS))
    average[0] = -6.0
    mine = average.copy()
    mine[0] = -2.0  # her own propensity: a 12% chance a month
    mine[HAZARD_TERMS.index("satisfaction")] += 1.2
    mine[HAZARD_TERMS.index("grievance")] += 0.4
    mine[HAZARD_TERMS.index("loyalty")] -= 0.3
    words = charts.churn_reason_words(mine, average, "zh")
    assert words.index("满意度") < words.index("积怨") and "忠诚度（" not in words
    assert t("term.frailty", "zh") not in words.split("主要是")[1]
    assert "她" not in words and "她" not in _texts(charts.churn_reasons(mine, average, "zh"))
    assert "bad luck" in charts.churn_reason_words(np.r_[-2.0, average[1:]], average, "en")


def test_sankey_is_coloured_by_stage_with_counts(run):
    fig = charts.stage_sankey(run.transitions, "zh")
    assert len(set(fig.data[0].link.color)) >= 3  # not all grey
    assert all(any(ch.isdigit() for ch in label) for label in fig.data[0].node.label)


def test_complaint_outcomes_are_not_hidden_by_silent_failures(run):
    fig = charts.complaints_over_time(run.monthly, "en")
    bars = [tr for tr in fig.data if tr.type == "bar"]
    line = next(tr for tr in fig.data if tr.type == "scatter")
    assert line.yaxis == "y2" and all(b.yaxis in (None, "y") for b in bars)
    assert sum(sum(b.y) for b in bars) == pytest.approx(run.monthly["complaints"].sum())


def test_identical_plans_are_told_apart():
    import pandas as pd

    same = pd.Series([1.0, 0.9, 0.8], index=[1, 2, 3])
    fig = charts.overlay_lines(
        {"Status quo": same, "My plan": same.copy(), "No service": same * 0.9}, "t", "y", "en"
    )
    assert len({tr.line.dash for tr in fig.data}) == 3
    notes = [a.text for a in fig.layout.annotations]
    assert any("Status quo, My plan" in n and "same results" in n for n in notes)


def test_satisfaction_zones_read_on_the_dark_scale_and_match_the_glossary(run):
    fig = charts.satisfaction_heatmap(run.sat_hist, "zh")
    notes = [a for a in fig.layout.annotations if "区" in a.text]
    assert {a.text.split("（")[0] for a in notes} == {"背叛区", "无差异区", "情感区"}
    assert t("glossary.zones.name", "zh") == "背叛区、无差异区、情感区"
    assert all(a.bgcolor and a.font.color == "#222" for a in notes)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_money_on_charts_reads_as_on_the_cards(run, lang):
    fig = charts.money_over_time(run.monthly, [], lang, "CNY")
    revenue = run.monthly["revenue"].to_numpy()
    if lang == "zh":
        assert fig.layout.yaxis.title.text == "金额（万元）"
        assert np.allclose(fig.data[0].y, revenue / 1e4)
        assert "万元" in fig.data[0].hovertemplate
    else:
        assert fig.layout.yaxis.title.text == "Amount (¥)" and fig.layout.yaxis.tickprefix == "¥"
        assert np.allclose(fig.data[0].y, revenue)
    shop = charts.money_over_time(
        run.monthly.assign(revenue=50.0, service_cost=10.0, profit=40.0), [], lang, "TWD"
    )
    assert shop.layout.yaxis.title.text == ("金额（新台币）" if lang == "zh" else "Amount (NT$)")


def test_money_words():
    from crmsim.money import currency_name, with_currency

    assert with_currency("1.8万", "CNY", "zh") == "1.8万元"
    assert with_currency("2,400", "TWD", "zh") == "2,400 新台币"
    assert with_currency("18.00K", "CNY", "en") == "¥18.00K"
    assert with_currency("-2.70K", "TWD", "en") == "-NT$2.70K"
    assert with_currency("5", "XYZ", "zh") == "5 XYZ"
    assert currency_name("CNY", "zh") == "元" and currency_name("CNY", "en") == "¥"
